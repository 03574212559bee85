"""Reading a screening request (HTTP body, CLI options, a payee) into a `ScreeningQuery`,
with one JSON pointer per bad field."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from paygod.compliance.lists.countries import is_country_code
from paygod.compliance.model import ScreeningQuery
from paygod.compliance.names import dob_problem, tokens
from paygod.kernel.errors import FieldError, InvalidInput
from paygod.kernel.identifiers import invisible_character, subject_problem

MAX_NAME = 300
FIELDS = {"name", "dob", "country", "subject"}


def parse_query(body: Any, *, allow_subject: bool = True) -> tuple[ScreeningQuery, str | None]:
    """(query, subject or None) or `InvalidInput` naming every bad field."""
    if not isinstance(body, Mapping):
        raise InvalidInput("expected a JSON object", errors=[FieldError("", "expected an object")])
    errors: list[FieldError] = []
    allowed = FIELDS if allow_subject else FIELDS - {"subject"}
    for key in body:
        if key not in allowed:
            errors.append(FieldError(f"/{key}", "unknown field"))
    name = body.get("name")
    if not isinstance(name, str) or not name.strip():
        errors.append(FieldError("/name", "expected a non-empty string"))
    elif len(name) > MAX_NAME:
        errors.append(FieldError("/name", f"must be at most {MAX_NAME} characters"))
    elif (problem := invisible_character(name)) is not None:
        errors.append(FieldError("/name", problem))
    elif not tokens(name):
        errors.append(FieldError("/name", "holds no letters or digits to match"))
    dob = body.get("dob")
    if dob is not None:
        if not isinstance(dob, str):
            errors.append(FieldError("/dob", "expected a string YYYY, YYYY-MM or YYYY-MM-DD"))
        elif (problem := dob_problem(dob)) is not None:
            errors.append(FieldError("/dob", problem))
    country = body.get("country")
    if country is not None and (not isinstance(country, str) or not is_country_code(country)):
        errors.append(FieldError("/country", "expected an ISO 3166-1 alpha-2 country code"))
    subject = body.get("subject")
    if subject is not None:
        if not isinstance(subject, str):
            errors.append(FieldError("/subject", "expected a string"))
        elif (problem := subject_problem(subject)) is not None:
            errors.append(FieldError("/subject", problem))
    if errors:
        raise InvalidInput("invalid screening request", errors=errors)
    assert isinstance(name, str)
    query = ScreeningQuery(
        " ".join(name.split()), dob, country.upper() if isinstance(country, str) else None
    )
    return query, subject if isinstance(subject, str) else None


def payee_query(payee: Mapping[str, Any]) -> ScreeningQuery | None:
    """A payee's name, date of birth and country when it has a usable name; payees named
    only by account number cannot be screened by name."""
    name = payee.get("name")
    if not isinstance(name, str) or not tokens(name):
        return None
    dob = payee.get("dob") or payee.get("date_of_birth")
    country = payee.get("country")
    return ScreeningQuery(
        " ".join(name.split())[:MAX_NAME],
        dob if isinstance(dob, str) and dob_problem(dob) is None else None,
        country.upper() if isinstance(country, str) and is_country_code(country) else None,
    )
