"""Exact minor units for the currency's exponent; no float ever involved."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from paygod.kernel.errors import InvalidInput
from paygod.mandates.amounts import parse_major, read_amount


@pytest.mark.parametrize(
    ("text", "currency", "minor"),
    [
        ("19.99", "EUR", 1999),
        ("0.29", "USD", 29),
        ("1000", "JPY", 1000),
        ("1.234", "KWD", 1234),
        ("1.2", "EUR", 120),
        ("4.35", "USD", 435),
        ("0.01", "EUR", 1),
    ],
)
def test_decimal_strings_parse_exactly(text: str, currency: str, minor: int) -> None:
    assert parse_major(text, currency) == minor


def test_the_reference_sdks_truncation_is_not_ours() -> None:
    assert int(19.99 * 100) == 1998  # what float maths gives
    assert parse_major("19.99", "EUR") == 1999


@pytest.mark.parametrize(
    ("text", "currency", "code"),
    [
        ("19.999", "EUR", "amount-precision"),
        ("1.5", "JPY", "amount-precision"),
        ("1.2345", "KWD", "amount-precision"),
        ("0", "EUR", "amount-invalid"),
        ("0.00", "EUR", "amount-invalid"),
        ("-1.00", "EUR", "invalid-input"),
        ("1e3", "EUR", "invalid-input"),
        (" 1.00", "EUR", "invalid-input"),
        ("01.00", "EUR", "invalid-input"),
        ("NaN", "EUR", "invalid-input"),
    ],
)
def test_what_cannot_be_exact_is_refused(text: str, currency: str, code: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        parse_major(text, currency)
    assert refused.value.instance_code == code


@pytest.mark.parametrize("value", [19.99, 1999.0, True, None, "x"])
def test_floats_and_non_amounts_are_refused(value: object) -> None:
    with pytest.raises(InvalidInput):
        read_amount(value, "EUR")


@given(st.integers(min_value=1, max_value=10**15), st.sampled_from(["EUR", "JPY", "KWD"]))
def test_minor_units_round_trip_through_their_decimal_form(minor: int, currency: str) -> None:
    from paygod.accounting.currencies import format_amount

    assert parse_major(format_amount(minor, currency), currency) == minor
