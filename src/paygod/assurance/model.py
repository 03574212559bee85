"""Assurance nouns: a period and the tree head it is judged against."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from paygod.kernel.clock import isoformat, parse_instant
from paygod.kernel.errors import FieldError, InvalidInput
from paygod.ledger.model import SignedTreeHead

# Every UUID in a generated document is derived from its content (RFC 9562 §5.5, v5) so
# the same ledger and tree head give byte-identical documents.
NAMESPACE = uuid.UUID("6f1c2a4e-1d2b-5c3e-9a8f-70a1e0c0a55e")


_NAMESPACE_BYTES = NAMESPACE.bytes


def content_uuid(*parts: object) -> str:
    """uuid.uuid5(NAMESPACE, parts joined by U+001F), spelled out: a million observations
    each need one, and the UUID object's construction was most of its cost."""
    name = "\x1f".join([str(p) for p in parts]).encode()
    return _v5(hashlib.sha1(_NAMESPACE_BYTES + name).digest())  # RFC 9562 v5 is SHA-1


# The RFC 9562 variant bits over the hex digit that holds them (10xx).
_VARIANT = {f"{d:x}": f"{(d & 0x3) | 0x8:x}" for d in range(16)}


def _v5(sha1: bytes) -> str:
    h = sha1.hex()
    # version 5 in the 13th hex digit, the variant in the 17th
    return f"{h[:8]}-{h[8:12]}-5{h[13:16]}-{_VARIANT[h[16]]}{h[17:20]}-{h[20:32]}"


class ContentUuids:
    """content_uuid(*prefix, *parts) for many parts (one at least) after one prefix: the
    prefix is hashed once (a million observations share "observation")."""

    def __init__(self, *prefix: object) -> None:
        text = "\x1f".join([str(p) for p in prefix]) + "\x1f"
        self._base = hashlib.sha1(_NAMESPACE_BYTES + text.encode())  # RFC 9562 v5 is SHA-1

    def __call__(self, *parts: object) -> str:
        found = self._base.copy()
        found.update("\x1f".join([str(p) for p in parts]).encode())
        return _v5(found.digest())

    def of_pair(self, first: int, second: str) -> str:
        """`self(first, second)` for an int and a str (an observation's seq and record
        hash), without the generic join."""
        found = self._base.copy()
        found.update(f"{first}\x1f{second}".encode())
        h = found.hexdigest()  # _v5, inline: a million observations
        return f"{h[:8]}-{h[8:12]}-5{h[13:16]}-{_VARIANT[h[16]]}{h[17:20]}-{h[20:32]}"


@dataclass(frozen=True)
class Period:
    start: datetime
    end: datetime

    @classmethod
    def parse(cls, start: str | None, end: str | None) -> Period:
        errors: list[FieldError] = []
        parsed: dict[str, datetime] = {}
        for name, text in (("from", start), ("to", end)):
            if not text:
                errors.append(FieldError(f"/{name}", "required: an ISO 8601 instant"))
                continue
            try:
                parsed[name] = parse_instant(text)
            except ValueError as exc:
                errors.append(FieldError(f"/{name}", f"not an ISO 8601 instant: {exc}"))
        if errors:
            raise InvalidInput("the period is invalid", errors=errors)
        if parsed["from"] > parsed["to"]:
            raise InvalidInput(
                "the period is invalid: from is after to",
                errors=[FieldError("/from", f"{start} is after to ({end})")],
            )
        return cls(parsed["from"], parsed["to"])

    def contains(self, at: datetime) -> bool:
        return self.start <= at <= self.end

    def as_dict(self) -> dict[str, str]:
        return {"from": isoformat(self.start), "to": isoformat(self.end)}


@dataclass(frozen=True)
class Basis:
    """What a document or report was computed against: the period and a verified head."""

    tenant_id: str
    period: Period
    head: SignedTreeHead

    def as_dict(self) -> dict[str, Any]:
        return {
            "tenant_id": self.tenant_id,
            "period": self.period.as_dict(),
            "tree_head": self.head.as_dict(),
        }
