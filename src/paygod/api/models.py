"""Shared request shapes: bodies that reject unknown fields, integers written as digits,
instants in query parameters."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any, ClassVar

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict

from paygod.kernel.clock import parse_instant
from paygod.kernel.errors import FieldError, InvalidInput
from paygod.kernel.identifiers import invisible_character


class StrictModel(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=False, frozen=True)
    # JSON pointers of members that hold personal data on purpose and never reach the
    # ledger (kept in a vault, sealed as a digest): exempt from the personal-data rule
    # of `kernel.written`, which every other member of every write body is held to.
    vaulted: ClassVar[tuple[str, ...]] = ()
    # Members the route holds to an identifier rule of its own (stricter, with a specific
    # error code): exempt from the character rule of `kernel.written`, not from the rest.
    identifiers: ClassVar[tuple[str, ...]] = ()
    # Members that carry a credential on purpose and keep it sealed outside the ledger (a
    # webhook's HMAC secret): exempt from the credential rule of `kernel.written` only.
    credentials: ClassVar[tuple[str, ...]] = ()


_DIGITS = re.compile(r"-?[0-9]+")


def _integer_text(value: Any) -> Any:
    """Only an integer written as digits: pydantic's lax int also takes "2.0" as 2, and a
    limit, seq or tree size given as a float is a client bug to report (422), not to round."""
    if isinstance(value, str) and not _DIGITS.fullmatch(value):
        raise ValueError("must be an integer written in digits")
    return value


# For integer path and query parameters: `Annotated[int, Digits, Query(...)]`.
Digits = BeforeValidator(_integer_text)


def _without_nul(value: str) -> str:
    """PostgreSQL text cannot hold U+0000: a subject, payer account or reason with one was
    a 500 there (and recorded as given on SQLite). Refused with the field's pointer."""
    if "\x00" in value:
        raise ValueError(f"must not contain U+0000 (NUL), found at character {value.index(chr(0))}")
    return value


# For free-text body fields that are stored as columns: `Annotated[str, Field(...), NoNul]`.
NoNul = AfterValidator(_without_nul)


def _visible(value: str) -> str:
    """An identifier a person reads back in audit output (a data subject) holds no control,
    format or other invisible character: `pay\u202eelif` reads as another subject."""
    problem = invisible_character(value)
    if problem:
        raise ValueError(problem)
    return value


# For subject-like identifiers, body or path: `Annotated[str, Field(...), Visible]`.
Visible = AfterValidator(_visible)


def query_instant(value: str | None, name: str) -> datetime | None:
    """The ISO 8601 instant in query parameter `name`, if given; else a 422 pointing at it."""
    if value is None:
        return None
    try:
        return parse_instant(value)
    except ValueError:
        raise InvalidInput(
            f"{name} is not an ISO 8601 instant",
            errors=[FieldError(f"#query/{name}", "expected e.g. 2026-01-31T00:00:00Z")],
        ) from None
