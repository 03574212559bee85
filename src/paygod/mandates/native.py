"""The native form: a mandate a human principal grants through Paygod, signed with a key
they registered (POST /v1/mandates/keys).

The grant is a compact JWS (`typ` paygod-mandate+jwt, EdDSA or ES256, `kid` = the grantor's
registered key id) over:

    {"tenant_id", "grantor", "grantee", "kind": "payment", "iat", "jti",
     "constraints": {"currency": "EUR", "budget": "200.00", "max_per_payment": "50.00",
                     "period": "day", "per_period": "100.00", "merchants": [...],
                     "categories": [...], "rails": [...], "not_before": ISO-8601,
                     "not_after": ISO-8601, "max_payments": 12, "single_use": false}}

Amounts are decimal strings in major units, parsed exactly to the currency's minor units.
Why the grantor's own key and not their API key: the API key authenticates whoever holds
it (a platform's backend relaying for many humans); the signature proves that *this* human
allowed *this* agent these limits, verifiable later by anyone holding the public key.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from enum import StrEnum
from typing import Any

from paygod.kernel.clock import parse_instant
from paygod.kernel.errors import FieldError, InvalidInput
from paygod.mandates.amounts import currency_problem, parse_major
from paygod.mandates.jose import VerificationFailed, json_object
from paygod.mandates.model import Constraints, Period

TYP = "paygod-mandate+jwt"
LISTS = ("merchants", "categories", "rails")
KNOWN = {
    "currency",
    "budget",
    "max_per_payment",
    "period",
    "per_period",
    "not_before",
    "not_after",
    "max_payments",
    "single_use",
    *LISTS,
}
MAX_LIST = 100


def header_of(grant: str) -> dict[str, Any]:
    if not isinstance(grant, str) or grant.count(".") != 2:
        raise VerificationFailed("malformed", "a grant is a compact JWS", "/grant")
    header = json_object(grant.split(".")[0], "the grant header")
    if header.get("typ") != TYP:
        raise VerificationFailed("malformed", f"the grant's typ must be {TYP}", "/grant")
    return header


def _instant(doc: Mapping[str, Any], name: str, errors: list[FieldError]) -> datetime | None:
    value = doc.get(name)
    if value is None:
        return None
    try:
        return parse_instant(str(value))
    except (ValueError, TypeError):
        errors.append(FieldError(f"/constraints/{name}", "expected an ISO 8601 instant"))
        return None


def _amount(
    doc: Mapping[str, Any], name: str, currency: str, errors: list[FieldError], codes: list[StrEnum]
) -> int | None:
    if doc.get(name) is None:
        return None
    try:
        return parse_major(doc[name], currency, f"/constraints/{name}")
    except InvalidInput as exc:
        # The first field error keeps its own code (amount-precision, amount-invalid).
        errors.extend(exc.errors)
        codes.append(exc.instance_code)
        return None


def constraints_of(doc: Any) -> Constraints:
    """The grant's constraints, every problem reported with its pointer."""
    if not isinstance(doc, Mapping):
        raise InvalidInput(
            "constraints is an object", errors=[FieldError("/constraints", "expected an object")]
        )
    errors = [FieldError(f"/constraints/{k}", "unknown constraint") for k in doc if k not in KNOWN]
    currency = doc.get("currency")
    if problem := currency_problem(currency):
        raise InvalidInput(
            "invalid mandate", errors=[*errors, FieldError("/constraints/currency", problem)]
        )
    assert isinstance(currency, str)
    codes: list[StrEnum] = []  # the first amount error keeps its own code (amount-precision...)
    budget = _amount(doc, "budget", currency, errors, codes)
    if doc.get("budget") is None:
        errors.append(FieldError("/constraints/budget", "required: the most the agent may spend"))
    per_payment = _amount(doc, "max_per_payment", currency, errors, codes)
    per_period = _amount(doc, "per_period", currency, errors, codes)
    period = doc.get("period")
    if period is not None and period not in {p.value for p in Period}:
        errors.append(FieldError("/constraints/period", "day, week or month"))
    if (period is None) != (per_period is None):
        errors.append(FieldError("/constraints/per_period", "period and per_period go together"))
    lists: dict[str, tuple[str, ...]] = {}
    for name in LISTS:
        value = doc.get(name, [])
        if (
            not isinstance(value, list)
            or len(value) > MAX_LIST
            or not all(isinstance(v, str) and 0 < len(v) <= 200 for v in value)
        ):
            errors.append(FieldError(f"/constraints/{name}", f"an array of up to {MAX_LIST} ids"))
        else:
            lists[name] = tuple(value)
    not_before, not_after = _instant(doc, "not_before", errors), _instant(doc, "not_after", errors)
    if not_before and not_after and not_after <= not_before:
        errors.append(FieldError("/constraints/not_after", "the mandate expires before it starts"))
    max_payments = doc.get("max_payments")
    if max_payments is not None and (
        type(max_payments) is not int or not 0 < max_payments <= 10_000
    ):
        errors.append(FieldError("/constraints/max_payments", "an integer from 1 to 10000"))
    single_use = doc.get("single_use", False)
    if type(single_use) is not bool:
        errors.append(FieldError("/constraints/single_use", "true or false"))
    for name, value in (("max_per_payment", per_payment), ("per_period", per_period)):
        if value is not None and budget is not None and value > budget:
            errors.append(FieldError(f"/constraints/{name}", "exceeds the budget"))
    code = codes[0] if codes else None
    if errors:
        raise InvalidInput("invalid mandate; nothing was recorded", code=code, errors=errors)
    assert budget is not None
    return Constraints(
        currency=currency,
        budget=budget,
        max_per_payment=per_payment,
        period=Period(period) if period else None,
        per_period=per_period,
        not_before=not_before,
        not_after=not_after,
        max_payments=max_payments,
        single_use=bool(single_use),
        merchants=lists.get("merchants", ()),
        categories=lists.get("categories", ()),
        rails=lists.get("rails", ()),
    )
