"""The three RFC 8785 encoders agree: paygod.canonical, the standalone verifier's copy, and
the orjson fast path used when sealing entries."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from paygod.canonical import CanonicalizationError, canonicalize
from paygod.ledger import verifier
from paygod.ledger.chain import canonical_bytes, canonical_parsed_bytes
from tests.support.json_strategies import json_values as shared_json_values

json_values = shared_json_values()


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
    for bad in (float("nan"), float("inf"), 2**60 + 1, {"a": float("-inf")}):
        try:
            canonical_bytes(bad)
        except (CanonicalizationError, ValueError):
            continue
        raise AssertionError(f"{bad!r} was accepted")


def test_keys_sorted_by_utf16_units() -> None:
    value = {"\U0001f600": 1, "\ufb01": 2, "a": 3}
    assert canonical_bytes(value) == canonicalize(value) == verifier.canonicalize(value)


@settings(max_examples=300, deadline=None)
@given(st.integers(min_value=2**53, max_value=2**1100) | st.integers(max_value=-(2**53)))
def test_integers_beyond_2_53_are_doubles_or_refused_by_every_encoder(value: int) -> None:
    """A JSON number is an IEEE double: an integer a double holds exactly, or whose digits
    are a double's own canonical form, serialises like that double (so a canonical document
    read back with integers as ints gives the same bytes); one a double would silently
    round is refused, by every encoder alike."""
    try:
        nearest = float(value)
        exact = int(nearest) == value or canonicalize(nearest) == str(value).encode()
    except OverflowError:
        exact = False
    encoders = (canonicalize, verifier.canonicalize, canonical_bytes, canonical_parsed_bytes)
    if exact:
        expected = canonicalize(float(value))
        assert all(encode({"n": value}) == b'{"n":' + expected + b"}" for encode in encoders)
    else:
        for encode in encoders:
            try:
                encode({"n": value})
            except (CanonicalizationError, ValueError):
                continue
            raise AssertionError(f"{encode.__module__} accepted {value}")


def test_a_float_beyond_2_53_survives_the_read_back_as_an_integer() -> None:
    written = canonicalize({"x": 1e16})
    assert written == b'{"x":10000000000000000}'
    import orjson

    assert canonicalize(orjson.loads(written)) == written  # the verifier's path
    rounded = canonicalize({"x": -(2.0**60)})
    assert rounded == b'{"x":-1152921504606847000}'
    assert canonicalize(orjson.loads(rounded)) == rounded


def test_a_null_beside_a_non_finite_float_still_takes_the_refusing_path() -> None:
    assert canonical_bytes({"a": None, "b": [1, "x", True]}) == b'{"a":null,"b":[1,"x",true]}'
    for bad in (
        {"a": None, "b": float("nan")},
        [None, (float("inf"),)],
        {"a": {"b": None}, "c": -float("inf")},
    ):
        try:
            canonical_bytes(bad)
        except (CanonicalizationError, ValueError):
            continue
        raise AssertionError(f"{bad!r} was accepted")
