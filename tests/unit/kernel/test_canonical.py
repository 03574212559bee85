"""RFC 8785: the RFC's own examples, and agreement with the reference library on any input,
of the rules (`verifier.canonicalize`) and of the fast path Paygod calls (`canonicalize`)."""

from __future__ import annotations

import struct

import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from paygod.canonical import CanonicalizationError, canonicalize, digest
from paygod.ledger import verifier
from tests.support.json_strategies import json_values as shared_json_values

# RFC 8785 Appendix B: IEEE 754 bit patterns and their canonical text.
NUMBER_VECTORS = [
    ("0000000000000000", "0"),
    ("8000000000000000", "0"),
    ("0000000000000001", "5e-324"),
    ("8000000000000001", "-5e-324"),
    ("7fefffffffffffff", "1.7976931348623157e+308"),
    ("ffefffffffffffff", "-1.7976931348623157e+308"),
    ("4340000000000000", "9007199254740992"),
    ("c340000000000000", "-9007199254740992"),
    ("4430000000000000", "295147905179352830000"),
    ("44b52d02c7e14af5", "9.999999999999997e+22"),
    ("44b52d02c7e14af6", "1e+23"),
    ("44b52d02c7e14af7", "1.0000000000000001e+23"),
    ("444b1ae4d6e2ef4e", "999999999999999700000"),
    ("444b1ae4d6e2ef4f", "999999999999999900000"),
    ("444b1ae4d6e2ef50", "1e+21"),
    ("3eb0c6f7a0b5ed8c", "9.999999999999997e-7"),
    ("3eb0c6f7a0b5ed8d", "0.000001"),
    ("41b3de4355555553", "333333333.3333332"),
    ("41b3de4355555554", "333333333.33333325"),
    ("41b3de4355555555", "333333333.3333333"),
    ("41b3de4355555556", "333333333.3333334"),
    ("41b3de4355555557", "333333333.33333343"),
    ("becbf647612f3696", "-0.0000033333333333333333"),
    ("43143ff3c1cb0959", "1424953923781206.2"),
]


@pytest.mark.parametrize(("bits", "expected"), NUMBER_VECTORS)
def test_rfc8785_number_vectors(bits: str, expected: str) -> None:
    value = struct.unpack(">d", bytes.fromhex(bits))[0]
    assert canonicalize(value) == expected.encode()


@pytest.mark.parametrize("bits", ["7fffffffffffffff", "7ff0000000000000", "fff0000000000000"])
def test_nan_and_infinity_have_no_form(bits: str) -> None:
    with pytest.raises(CanonicalizationError):
        canonicalize(struct.unpack(">d", bytes.fromhex(bits))[0])


def test_rfc8785_section_3_2_4_example() -> None:
    # RFC 8785 §3.2.4 (sorting by UTF-16 code units) with the expected output of §3.2.3.
    value = {
        "\u20ac": "Euro Sign",
        "\r": "Carriage Return",
        "\ufb33": "Hebrew Letter Dalet With Dagesh",
        "1": "One",
        "\U0001f600": "Emoji: Grinning Face",
        "\u0080": "Control",
        "\u00f6": "Latin Small Letter O With Diaeresis",
    }
    expected = (
        '{"\\r":"Carriage Return","1":"One","\u0080":"Control",'
        '"\u00f6":"Latin Small Letter O With Diaeresis","\u20ac":"Euro Sign",'
        '"\U0001f600":"Emoji: Grinning Face","\ufb33":"Hebrew Letter Dalet With Dagesh"}'
    )
    assert canonicalize(value) == expected.encode()


def test_rfc8785_section_3_2_2_example() -> None:
    value = {
        "numbers": [333333333.33333329, 1e30, 4.50, 2e-3, 0.000000000000000000000000001],
        "string": "\u20ac$\u000f\u000aA'\u0042\u0022\u005c\\\"/",
        "literals": [None, True, False],
    }
    expected = (
        '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],'
        '"string":"\u20ac$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}'
    )
    assert canonicalize(value) == expected.encode()


def test_unsafe_integers_and_lone_surrogates_are_refused() -> None:
    with pytest.raises(CanonicalizationError):
        canonicalize({"amount": 2**53 + 1})  # a double would round it
    with pytest.raises(CanonicalizationError):
        canonicalize({"name": "\ud800"})
    with pytest.raises(CanonicalizationError):
        canonicalize({1: "not a string key"})


def test_digest_form() -> None:
    assert digest({}) == "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"


json_values = shared_json_values(max_size=5, key_size=8, max_leaves=30)


@settings(max_examples=400, deadline=None)
@given(json_values)
def test_agrees_with_reference_library(value: object) -> None:
    try:
        expected = rfc8785.dumps(value)
    except (rfc8785.CanonicalizationError, UnicodeEncodeError):
        with pytest.raises(CanonicalizationError):
            canonicalize(value)
        with pytest.raises(CanonicalizationError):
            verifier.canonicalize(value)
        return
    assert canonicalize(value) == expected
    assert verifier.canonicalize(value) == expected


float_free_values = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(2**60), max_value=2**60) | st.text(),
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=8), children, max_size=5)
    ),
    max_leaves=30,
)


@settings(max_examples=400, deadline=None)
@given(float_free_values)
def test_fast_path_agrees_with_slow_path(value: object) -> None:
    # Without floats the orjson fast path runs; it must match the rules' encoder exactly,
    # including keys above U+FFFF (UTF-16 order) and refusals of unsafe integers.
    try:
        expected = verifier.canonicalize(value)
    except CanonicalizationError:
        with pytest.raises(CanonicalizationError):
            canonicalize(value)
        return
    assert canonicalize(value) == expected


def test_fast_path_sorts_astral_keys_by_utf16() -> None:
    value = {"\U0001f600": 1, "\ufb33": 2, "a": 3}
    assert canonicalize(value) == rfc8785.dumps(value)


@pytest.mark.parametrize("number", [2**53, 1e20, 9007199254740993.0, -(2.0**53), 1.5e300])
def test_an_input_number_beyond_2_53_is_unsafe_however_it_is_written(number: float) -> None:
    from paygod.canonical import unsafe_numbers

    # 1e20 seals as 100000000000000000000, the same text as the refused integer 10**20.
    assert [where for where, _ in unsafe_numbers({"n": [number]})] == ["/n/0"]


@pytest.mark.parametrize("number", [2**53 - 1, float(2**53 - 1), 0.1, -1e-300, 9.0e15])
def test_numbers_within_2_53_are_safe(number: float) -> None:
    from paygod.canonical import unsafe_numbers

    assert unsafe_numbers({"n": number}) == []
