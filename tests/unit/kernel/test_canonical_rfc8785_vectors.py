"""RFC 8785 conformance: the published vectors (tests/fixtures/rfc8785), byte for byte,
through the rules' encoder (the standalone verifier's), the fast paths over it and the
`paygod canonical` CLI; ES6 number serialisation; string escaping; UTF-16 key order;
and what must be refused, with one precise stderr line and exit 2."""

from __future__ import annotations

import re
import struct
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from paygod.canonical import CanonicalizationError, canonicalize, digest
from paygod.kernel.errors import InvalidInput
from paygod.kernel.jsonio import parse_json
from paygod.ledger import verifier
from paygod.ledger.chain import canonical_parsed_bytes

FIXTURES = Path(__file__).parents[2] / "fixtures" / "rfc8785"
VECTOR_NAMES = sorted(path.stem for path in (FIXTURES / "input").glob("*.json"))

# The rules (the verifier's encoder) and the fast paths over them (orjson where provably
# the same bytes): `canonicalize` is the ledger's `canonical_bytes`.
ENCODERS: dict[str, Callable[[Any], bytes]] = {
    "canonicalize": canonicalize,
    "chain.canonical_parsed_bytes": canonical_parsed_bytes,
    "verifier.canonicalize": verifier.canonicalize,
}


def _double(bits: str) -> float:
    value: float = struct.unpack(">d", bytes.fromhex(bits.rjust(16, "0")))[0]
    return value


def _number_vectors() -> list[tuple[str, str]]:
    lines = (FIXTURES / "es6_numbers.csv").read_text().split()
    return [(bits, expected) for bits, expected in (line.split(",") for line in lines)]


def _cli(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "paygod", "canonical", *args],
        capture_output=True,
        input=stdin,
        timeout=120,
        check=False,
    )


def test_the_fixture_set_is_complete() -> None:
    assert VECTOR_NAMES == ["arrays", "french", "structures", "unicode", "values", "weird"]
    assert all((FIXTURES / "output" / f"{name}.json").is_file() for name in VECTOR_NAMES)
    assert len(_number_vectors()) >= 24


@pytest.mark.parametrize("encoder", list(ENCODERS))
@pytest.mark.parametrize("name", VECTOR_NAMES)
def test_published_vector_byte_for_byte(name: str, encoder: str) -> None:
    source = (FIXTURES / "input" / f"{name}.json").read_bytes()
    expected = (FIXTURES / "output" / f"{name}.json").read_bytes()
    value = parse_json(source, source=name, ieee_numbers=True)
    assert ENCODERS[encoder](value) == expected


@pytest.mark.parametrize("name", ["values", "weird"])
def test_published_vector_through_the_cli(name: str) -> None:
    path = FIXTURES / "input" / f"{name}.json"
    expected = (FIXTURES / "output" / f"{name}.json").read_bytes()
    result = _cli(str(path))
    assert (result.returncode, result.stderr) == (0, b"")
    assert result.stdout == expected
    hashed = _cli(str(path), "--hash")
    assert hashed.stdout.decode() == digest(parse_json(expected, ieee_numbers=True)) + "\n"
    piped = _cli("-", stdin=path.read_bytes())
    assert piped.stdout == expected


@pytest.mark.parametrize("encoder", list(ENCODERS))
@pytest.mark.parametrize(("bits", "expected"), _number_vectors())
def test_es6_number_vectors(bits: str, expected: str, encoder: str) -> None:
    value = _double(bits)
    encode = ENCODERS[encoder]
    # A bare number, and one inside an array and an object (the fast paths look for the
    # delimiter after a number), must all be the ES6 Number::toString text.
    assert encode(value) == expected.encode()
    assert encode([value, value]) == f"[{expected},{expected}]".encode()
    assert encode({"n": value}) == f'{{"n":{expected}}}'.encode()
    assert float(expected) == value or value == 0  # the text reads back as the same double


@pytest.mark.parametrize("bits", (FIXTURES / "es6_invalid.csv").read_text().split())
@pytest.mark.parametrize("encoder", ["canonicalize", "verifier.canonicalize"])
def test_nan_and_infinities_are_refused(bits: str, encoder: str) -> None:
    with pytest.raises(CanonicalizationError, match="is not a JSON number"):
        ENCODERS[encoder]({"n": [None, _double(bits)]})


NUMBER_CASES = [
    (-0.0, "0"),
    (1e21, "1e+21"),
    (1e-7, "1e-7"),
    (5e-324, "5e-324"),
    (1.7976931348623157e308, "1.7976931348623157e+308"),
    (0.000001, "0.000001"),
    (1e-6 * 1.5, "0.0000015"),
    (123456789012345680000.0, "123456789012345680000"),
    (float(9007199254740993), "9007199254740992"),  # the double the literal rounds to
    (1e16, "10000000000000000"),
    (1e20, "100000000000000000000"),
    (2.0**64, "18446744073709552000"),
    (1.0, "1"),
    (100.0, "100"),
    (0.1, "0.1"),
    (1e-5, "0.00001"),
]


@pytest.mark.parametrize("encoder", list(ENCODERS))
@pytest.mark.parametrize(("value", "expected"), NUMBER_CASES)
def test_es6_number_forms(value: float, expected: str, encoder: str) -> None:
    assert ENCODERS[encoder]({"a": [value], "b": value}) == (
        f'{{"a":[{expected}],"b":{expected}}}'.encode()
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[-0, -0.0, -0e5]", "[0,0,0]"),
        ("[9007199254740993]", "[9007199254740992]"),  # integers are doubles (RFC 8785 §3.2.2.3)
        (
            "[123456789012345680000, 18446744073709551616]",
            "[123456789012345680000,18446744073709552000]",
        ),
        ("[-9007199254740993]", "[-9007199254740992]"),
        ("[1E21, 1e-7, 1.0e+0000000000000000000001]", "[1e+21,1e-7,10]"),
        ("[0.1e-400]", "[0]"),  # underflows to zero, as in ECMAScript
        ("[1" + "0" * 300 + "]", "[1e+300]"),  # a 301-digit integer is the double 1e300
        ("[1" + "0" * 5000 + "e-4990]", "[10000000000]"),  # 5001 digits, no int() limit
    ],
)
def test_numbers_in_input_text_are_read_as_doubles(text: str, expected: str) -> None:
    assert canonicalize(parse_json(text, ieee_numbers=True)) == expected.encode()


@pytest.mark.parametrize("encoder", list(ENCODERS))
def test_string_escaping(encoder: str) -> None:
    controls = "".join(chr(c) for c in range(0x20))
    value = {"s": controls + '"\\/\x7f\u0080\u2028\u2029\ufeff\U0001f602é'}
    short = {0x08: "\\b", 0x09: "\\t", 0x0A: "\\n", 0x0C: "\\f", 0x0D: "\\r"}
    escaped = "".join(short.get(c, f"\\u{c:04x}") for c in range(0x20))
    expected = '{"s":"' + escaped + '\\"\\\\/\x7f\u0080\u2028\u2029\ufeff\U0001f602é"}'
    assert ENCODERS[encoder](value) == expected.encode("utf-8")
    assert b"\\u001f" in ENCODERS[encoder](value)  # lowercase hex, never \u001F


KEYS_BY_UTF16 = [
    "",
    "\r",
    "1",
    "A",
    "a",
    "\u0080",
    "\u00f6",
    "\ud7ff",
    "\U00010000",  # D800 DC00: a surrogate pair sorts below U+E000..U+FFFF
    "\U0001f600",
    "\U0001f600a",
    "\U0010ffff",
    "\ue000",
    "\ufb33",
    "\uff5e",
    "\uffff",
]


@pytest.mark.parametrize("encoder", list(ENCODERS))
def test_keys_sorted_by_utf16_code_units(encoder: str) -> None:
    value = {key: index for index, key in enumerate(reversed(KEYS_BY_UTF16))}
    encoded = ENCODERS[encoder](value).decode("utf-8")
    members = [(key, value[key]) for key in KEYS_BY_UTF16]
    expected = "{" + ",".join(f"{_json_key(key)}:{n}" for key, n in members) + "}"
    assert encoded == expected
    # The astral keys are not where code-point order would put them (after U+FFFF).
    assert encoded.index("\U0001f600") < encoded.index("\ue000")


def _json_key(key: str) -> str:
    return '"' + key.replace("\r", "\\r") + '"'


@pytest.mark.parametrize("encoder", list(ENCODERS))
def test_nested_objects_in_arrays_are_sorted_and_arrays_are_not(encoder: str) -> None:
    value = [3, {"\ufb33": [2, 1], "\U0001f602": {"b": 1.5, "a": -0.0}}, "z", 1]
    assert ENCODERS[encoder](value) == (
        '[3,{"\U0001f602":{"a":0,"b":1.5},"\ufb33":[2,1]},"z",1]'.encode()
    )


REFUSED = [
    ({"s": ["ok", "\ud800"]}, "/s/1", "lone UTF-16 surrogate U+D800"),
    ({"\udc00": 1}, "", "lone UTF-16 surrogate U+DC00"),
    ({"a": {"b/c": float("nan")}}, "/a/b~1c", "NaN is not a JSON number"),
    ([1, float("-inf")], "/1", "-Infinity is not a JSON number"),
    ({"n": 2**53 + 1}, "/n", "integer 9007199254740993"),
]


@pytest.mark.parametrize(("value", "pointer", "reason"), REFUSED)
@pytest.mark.parametrize("encoder", ["canonicalize", "verifier.canonicalize"])
def test_refusals_name_the_value(value: Any, pointer: str, reason: str, encoder: str) -> None:
    with pytest.raises(CanonicalizationError, match=re.escape(reason)) as caught:
        ENCODERS[encoder](value)
    assert caught.value.pointer == pointer


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"a":1,"a":2}', "duplicate member name 'a'"),
        ('{"a":1,"\\u0061":2}', "duplicate member name 'a'"),  # equal once unescaped
        ('{"x":{"\\ud83d\\ude00":1,"\U0001f600":2}}', "duplicate member name"),
        ("[NaN]", "NaN is not a JSON number"),
        ("[-Infinity]", "-Infinity is not a JSON number"),
        ("[1e400]", "number 1e400 is beyond the range of an IEEE 754 double"),
        ("[-1E+309]", "number -1E+309 is beyond the range of an IEEE 754 double"),
        ("[" + "9" * 400 + "]", "is beyond the range of an IEEE 754 double"),
        ("\ufeff{}", "byte order mark"),
    ],
)
def test_input_text_refused_when_parsing(text: str, message: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_json(text.encode("utf-8"), source="in.json", ieee_numbers=True)
    assert message in caught.value.one_line()
    assert "\n" not in caught.value.one_line()


def test_an_integer_too_long_for_python_is_refused_in_json_terms() -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_json("[" + "7" * 5000 + "]", source="in.json")  # exact-integer mode
    line = caught.value.one_line()
    assert "more than 4300 digits" in line
    assert "set_int_max_str_digits" not in line


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b'{"a":1,"a":2}', "duplicate member name 'a'"),
        (b'{"a":NaN}', "NaN is not a JSON number"),
        (b"[1e400]", "number 1e400 is beyond the range of an IEEE 754 double"),
        (b'{"k":["\\ud800"]}', "/k/0: string has a lone UTF-16 surrogate U+D800"),
        (b'{"\\udead":true}', "lone UTF-16 surrogate U+DEAD"),
        (b'"\xff"', "not valid UTF-8"),
        (b'{"a": [1, 2', "not valid JSON"),
    ],
)
def test_cli_refuses_with_exit_2_and_one_line(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "hostile.json"
    path.write_bytes(content)
    result = _cli(str(path))
    assert result.returncode == 2
    assert result.stdout == b""
    lines = result.stderr.decode().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("error: ") and message in lines[0], lines[0]
