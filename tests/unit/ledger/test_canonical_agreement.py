"""The three RFC 8785 encoders agree: paygod.canonical, the standalone verifier's copy, and
the orjson fast path used when sealing entries."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from paygod.canonical import CanonicalizationError, canonicalize
from paygod.ledger import verifier
from paygod.ledger.chain import canonical_bytes, canonical_parsed_bytes

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**53) + 1, max_value=2**53 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=6), children, max_size=4)
    ),
    max_leaves=12,
)


def _reference(value: Any) -> bytes | None:
    try:
        return canonicalize(value)
    except CanonicalizationError:
        return None


@settings(max_examples=400, deadline=None)
@given(json_values)
def test_encoders_agree(value: Any) -> None:
    expected = _reference(value)
    if expected is None:
        return  # e.g. lone surrogates: every encoder must refuse, checked below
    assert verifier.canonicalize(value) == expected
    assert canonical_bytes(value) == expected
    assert canonical_parsed_bytes(value) == expected


def test_non_finite_and_unsafe_values_refused() -> None:
    for bad in (float("nan"), float("inf"), 2**60, {"a": float("-inf")}):
        try:
            canonical_bytes(bad)
        except (CanonicalizationError, ValueError):
            continue
        raise AssertionError(f"{bad!r} was accepted")


def test_keys_sorted_by_utf16_units() -> None:
    value = {"\U0001f600": 1, "\ufb01": 2, "a": 3}
    assert canonical_bytes(value) == canonicalize(value) == verifier.canonicalize(value)
