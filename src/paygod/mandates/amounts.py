"""Exact amounts: decimal strings in major units to integer minor units of the currency.

The currency's exponent (ISO 4217: JPY 0, EUR 2, KWD 3) comes from
`paygod.accounting.currencies`; a string with more fraction digits than the exponent
allows is refused, never rounded, and no float is ever involved: `int(19.99 * 100)` is
1998 (the truncation the reference SDK ships), `parse_major("19.99", "EUR")` is 1999.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from paygod.accounting.currencies import exponent
from paygod.kernel.errors import FieldError, InvalidInput
from paygod.mandates.errors import MandateCode

MAX_MINOR = 2**53 - 1  # above this a JSON reader may no longer hold the integer exactly
_DECIMAL = re.compile(r"^(0|[1-9][0-9]{0,17})(\.[0-9]{1,6})?$")


def currency_problem(currency: object) -> str | None:
    if not isinstance(currency, str) or not re.fullmatch(r"[A-Z]{3}", currency):
        return "must be an ISO 4217 code like EUR"
    try:
        exponent(currency)
    except InvalidInput:
        return f"unknown currency {currency!r}"
    return None


def parse_major(text: object, currency: str, pointer: str = "/amount") -> int:
    """'19.99' EUR -> 1999; '1000' JPY -> 1000; '1.234' KWD -> 1234. Positive only."""
    if not isinstance(text, str) or not _DECIMAL.match(text):
        raise InvalidInput(
            "an amount is a decimal string in major units",
            errors=[FieldError(pointer, 'expected a decimal string like "19.99"')],
        )
    digits = exponent(currency)
    try:
        value = Decimal(text)
    except InvalidOperation:  # pragma: no cover - the pattern admits only decimals
        raise InvalidInput("not a decimal", errors=[FieldError(pointer, "not a decimal")]) from None
    scaled = value.scaleb(digits)
    if scaled != scaled.to_integral_value():
        raise InvalidInput(
            f"{currency} has {digits} minor-unit digits",
            code=MandateCode.AMOUNT_PRECISION,
            errors=[FieldError(pointer, f"{text} has more decimals than {currency} allows")],
        )
    return check_minor(int(scaled), pointer)


def check_minor(amount: object, pointer: str = "/amount") -> int:
    """An amount already in minor units: a JSON integer, 1 <= amount <= 2^53-1."""
    if type(amount) is not int or not 0 < amount <= MAX_MINOR:
        raise InvalidInput(
            "an amount is a positive whole number of minor units",
            code=MandateCode.AMOUNT_INVALID,
            errors=[FieldError(pointer, f"must be an integer between 1 and {MAX_MINOR}")],
        )
    return amount


def read_amount(value: object, currency: str, pointer: str = "/amount") -> int:
    """A request's amount: a decimal string in major units, or an integer in minor units
    under `..._minor`. Floats are refused: 0.1 + 0.2 is not 0.3."""
    if isinstance(value, str):
        return parse_major(value, currency, pointer)
    return check_minor(value, pointer)
