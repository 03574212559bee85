"""Lines recognised by their shape get exactly the exact walk's verdict.

The fast verifier hashes a line's bytes as they are when it matches a shape learnt from
an earlier canonical line. These tests forge lines that are almost canonical (an escape,
a space, a float, a raw control character...) and hash them the way a careless or hostile
writer would, over the bytes written, then re-chain every line after them: the only fault
left is the one the shape must not let through.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from paygod.canonical import canonicalize
from paygod.kernel.errors import InvalidInput
from paygod.ledger import fast_verify as audit
from paygod.ledger.fast_verify import fast_verify, scan, verify_jsonl_report
from paygod.ledger.line_shapes import ShapeBook, line_pattern, plain_text
from paygod.ledger.signing import TreeHeadSigner
from paygod.ledger.verifier import GENESIS_HASH, Malformed, verify_jsonl
from tests.support.json_strategies import json_values

Render = Callable[[bytes], bytes]


def data_of(i: int) -> dict[str, Any]:
    return {
        "entry_id": f"e-{i:04d}",
        "kind": "observation",
        "payload": {
            "amount": {"currency": "EUR", "minor_units": 1000 + i},
            "note": f"invoice #{i}",
            "ok": True,
            "refs": ["a", "b"],
            "void": None,
        },
        "subject": f"acct-{i % 7}",
    }


def chain(datas: list[Any], render: dict[int, Render] | None = None) -> list[bytes]:
    """Lines whose record hashes are computed over the data bytes as written.

    Line k's data is written canonically, then passed through `render[k]` if given. A
    writer that hashes what it writes: right for canonical text, wrong otherwise.
    """
    previous = GENESIS_HASH
    lines = []
    for index, data in enumerate(datas):
        text = canonicalize(data)
        if render and index in render:
            text = render[index](text)
        timestamp = f"2026-03-01T00:00:{index % 60:02d}.000000Z"
        record = hashlib.sha256(
            b'{"data":'
            + text
            + f',"previous_hash":"{previous}","timestamp":"{timestamp}"}}'.encode()
        ).hexdigest()
        lines.append(
            b'{"data":'
            + text
            + f',"entry_index":{index},"previous_hash":"{previous}",'
            f'"record_hash":"{record}","timestamp":"{timestamp}"}}'.encode()
        )
        previous = record
    return lines


def write(tmp_path: Path, lines: list[bytes]) -> Path:
    path = tmp_path / "ledger.jsonl"
    path.write_bytes(b"".join(line + b"\n" for line in lines))
    return path


def verdicts(path: Path, **kwargs: Any) -> tuple[Any, Any]:
    """(standalone verifier's, fast verifier's) verdict: findings and root, or the error."""
    try:
        reference = verify_jsonl(path, **kwargs)
        standalone: Any = (reference["findings"], reference["root_hash"])
    except Malformed:
        standalone = "malformed"
    try:
        report = verify_jsonl_report(path, **kwargs).as_dict()
        fast: Any = (report["findings"], report["root_hash"])
    except InvalidInput:
        fast = "malformed"
    return standalone, fast


def same_verdict(path: Path, **kwargs: Any) -> Any:
    standalone, fast = verdicts(path, **kwargs)
    assert fast == standalone
    return standalone


@pytest.fixture(params=["runs of 64 KiB", "a run per line"], autouse=True)
def run_length(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Whole files in one run, and runs of one line: then a line that is not plain text
    (an escape, a control character) leaves its neighbours on the shape path."""
    if request.param == "a run per line":
        monkeypatch.setattr(audit, "RUN_BYTES", 1)


DATAS = [data_of(i) for i in range(40)]
FORGED = 25  # after the first lines have taught the shape


def test_intact_lines_take_the_shape_path(tmp_path: Path) -> None:
    lines = chain(DATAS)
    book = ShapeBook()
    assert book.learn(lines[0], orjson.loads(lines[0])) is None  # a skeleton met once
    assert book.learn(lines[1], orjson.loads(lines[1])) is not None  # and again: compiled
    assert all(book.find(line) is not None for line in lines)  # one shape for them all
    findings, _ = same_verdict(write(tmp_path, lines))
    assert findings == []
    piece = scan(b"".join(line + b"\n" for line in lines))
    assert piece is not None and piece.count == len(lines)


def replace(old: bytes, new: bytes) -> Render:
    def render(text: bytes) -> bytes:
        assert old in text
        return text.replace(old, new, 1)

    return render


# Each forgery keeps the line JSON (or makes it plainly not JSON) and hashes the result:
# the verdict both verifiers must reach (a raw DEL is RFC 8785's own form, so it holds).
FORGERIES: dict[str, tuple[Render, str]] = {
    "escaped letter": (replace(b'"EUR"', b'"\\u0045UR"'), "record_hash"),
    "escaped slash": (replace(b'"observation"', b'"obser\\/vation"'), "record_hash"),
    "space after colon": (replace(b'"ok":true', b'"ok": true'), "record_hash"),
    "space before data ends": (lambda text: text[:-1] + b" }", "record_hash"),
    "keys out of order": (
        replace(b'"currency":"EUR","minor_units":1025', b'"minor_units":1025,"currency":"EUR"'),
        "record_hash",
    ),
    "negative zero": (replace(b'"minor_units":1025', b'"minor_units":-0'), "record_hash"),
    "leading zero": (replace(b'"minor_units":1025', b'"minor_units":01025'), "malformed"),
    "integral float": (replace(b'"minor_units":1025', b'"minor_units":1025.0'), "record_hash"),
    "exponent": (replace(b'"minor_units":1025', b'"minor_units":1.025e3'), "record_hash"),
    "sixteen digits": (
        replace(b'"minor_units":1025', b'"minor_units":1234567890123456'),
        "ok",
    ),
    "beyond 2^53": (
        replace(b'"minor_units":1025', b'"minor_units":12345678901234567890'),
        "malformed",
    ),
    # Not I-JSON: which value was hashed is ambiguous, so the file is refused outright.
    "duplicate key": (replace(b'"ok":true', b'"ok":false,"ok":true'), "malformed"),
    "raw control character": (replace(b'"invoice #25"', b'"invoice\x01#25"'), "malformed"),
    "raw tab": (replace(b'"invoice #25"', b'"invoice\t#25"'), "malformed"),
    "raw carriage return": (replace(b'"invoice #25"', b'"invoice\r#25"'), "malformed"),
    "DEL character": (replace(b'"invoice #25"', b'"invoice\x7f#25"'), "ok"),
    "invalid UTF-8": (replace(b'"invoice #25"', b'"invoice \xff#25"'), "malformed"),
    "UTF-8 surrogate": (replace(b'"invoice #25"', b'"invoice \xed\xa0\x80#25"'), "malformed"),
    "true for an integer": (replace(b'"minor_units":1025', b'"minor_units":true'), "ok"),
    "string for an integer": (replace(b'"minor_units":1025', b'"minor_units":"1025"'), "ok"),
    "array grown": (replace(b'["a","b"]', b'["a","b","c"]'), "ok"),
    "object for a string": (replace(b'"note":"invoice #25"', b'"note":{}'), "ok"),
    "unquoted key": (replace(b'"ok":true', b"ok:true"), "malformed"),
    "trailing comma": (replace(b'["a","b"]', b'["a","b",]'), "malformed"),
}


@pytest.mark.parametrize("name", sorted(FORGERIES))
def test_forged_line_gets_the_exact_verdict(tmp_path: Path, name: str) -> None:
    render, expected = FORGERIES[name]
    lines = chain(DATAS, {FORGED: render})
    verdict = same_verdict(write(tmp_path, lines))
    if expected == "malformed":
        assert verdict == "malformed"
    elif expected == "ok":
        assert verdict != "malformed" and verdict[0] == []  # canonical, of another shape
    else:
        findings, _ = verdict
        assert findings[0]["index"] == FORGED
        assert findings[0]["field"] == "record_hash"


NON_CANONICAL_BUT_VALID = {
    "escaped letter": replace(b'"EUR"', b'"\\u0045UR"'),
    "spaces": replace(b'"ok":true', b'"ok" : true'),
    "keys out of order": replace(
        b'"currency":"EUR","minor_units":1025', b'"minor_units":1025,"currency":"EUR"'
    ),
    "integral float": replace(b'"minor_units":1025', b'"minor_units":1025.0'),
}


@pytest.mark.parametrize("name", sorted(NON_CANONICAL_BUT_VALID))
def test_non_canonical_line_hashed_canonically_verifies(tmp_path: Path, name: str) -> None:
    """Written loosely but hashed by RFC 8785: valid, on both paths, with the same root."""
    lines = chain(DATAS)
    loose = NON_CANONICAL_BUT_VALID[name](lines[FORGED])
    assert loose != lines[FORGED]
    lines[FORGED] = loose
    findings, _ = same_verdict(write(tmp_path, lines))
    assert findings == []


def tamper_payload_byte(lines: list[bytes]) -> list[bytes]:
    lines[FORGED] = lines[FORGED].replace(b"invoice #25", b"invoice #26", 1)
    return lines


def tamper_integer_digit(lines: list[bytes]) -> list[bytes]:
    lines[FORGED] = lines[FORGED].replace(b'"minor_units":1025', b'"minor_units":1026', 1)
    return lines


def tamper_removed(lines: list[bytes]) -> list[bytes]:
    del lines[FORGED]
    return lines


def tamper_swapped(lines: list[bytes]) -> list[bytes]:
    lines[FORGED], lines[FORGED + 1] = lines[FORGED + 1], lines[FORGED]
    return lines


def tamper_index_renumbered(lines: list[bytes]) -> list[bytes]:
    lines[FORGED] = lines[FORGED].replace(b'"entry_index":25,', b'"entry_index":26,', 1)
    return lines


@pytest.mark.parametrize(
    ("tamper", "field"),
    [
        (tamper_payload_byte, "record_hash"),
        (tamper_integer_digit, "record_hash"),
        (tamper_removed, "entry_index"),
        (tamper_swapped, "entry_index"),
        (tamper_index_renumbered, "entry_index"),
    ],
)
def test_tampering_is_named_as_the_exact_walk_names_it(
    tmp_path: Path, tamper: Callable[[list[bytes]], list[bytes]], field: str
) -> None:
    lines = tamper(chain(DATAS))
    findings, _ = same_verdict(write(tmp_path, lines))
    assert findings[0]["index"] == FORGED
    assert findings[0]["field"] == field


def test_truncated_tail_against_a_signed_head(tmp_path: Path) -> None:
    lines = chain(DATAS)
    signer = TreeHeadSigner.generate()
    full = verify_jsonl(write(tmp_path, lines))
    head = signer.sign(len(lines), full["root_hash"], "2026-03-01T00:01:00.000000Z").as_dict()
    path = write(tmp_path, lines[:-3])
    findings, _ = same_verdict(path, tree_head=head, public_key_pem=signer.public_pem())
    assert findings[0]["field"] == "tree_size"
    assert findings[0]["index"] == len(lines) - 3


def test_non_ascii_text_is_plain_and_verifies(tmp_path: Path) -> None:
    datas = [{**data_of(i), "subject": f"Zoë Ünal €{i} \u2028 😀"} for i in range(30)]
    lines = chain(datas)
    assert plain_text(b"\n".join(lines))
    findings, _ = same_verdict(write(tmp_path, lines))
    assert findings == []
    assert fast_verify(write(tmp_path, lines)) is not None


def test_shapes_with_floats_or_odd_keys_are_not_learnt() -> None:
    for data in ({"x": 0.5}, {'q"uote': 1}, {"k\u00e9y": 1}, {"big": 10**15}):
        line = chain([data])[0]
        assert line_pattern(orjson.loads(line)) is None, data
    deep: Any = 1
    for _ in range(40):
        deep = [deep]
    assert line_pattern(orjson.loads(chain([{"d": deep}])[0])) is None


def test_shapes_are_compiled_when_they_recur_and_within_a_budget() -> None:
    book = ShapeBook(budget=1)
    a0, a1, b0, b1 = chain([{"a": 1}, {"a": 2}, {"b": 1}, {"b": 2}])
    assert book.learn(a0, orjson.loads(a0)) is None  # met once: not worth compiling yet
    assert book.learn(a1, orjson.loads(a1)) is not None
    assert book.learn(b0, orjson.loads(b0)) is None
    assert book.learn(b1, orjson.loads(b1)) is None  # the budget is spent
    assert book.find(b1) is None and book.find(a0) is not None


def test_a_file_of_ever_new_shapes_stops_looking_for_them(tmp_path: Path) -> None:
    datas = [{f"k{i}": i} for i in range(1200)]  # no two lines share a shape
    lines = chain(datas)
    findings, _ = same_verdict(write(tmp_path, lines))
    assert findings == []


PLAIN_KEYS = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=4)
# Values shaped like ledger payloads, which mostly have a shape (no floats, plain keys).
shaped_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**53) + 1, 2**53 - 1)
    | st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7F), max_size=6)
    | st.text(max_size=3),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(PLAIN_KEYS, children, max_size=3)
    ),
    max_leaves=10,
)


@st.composite
def mutated(draw: st.DrawFn) -> tuple[bytes, bytes]:
    """A canonical line and the same line with a few bytes inserted, removed or replaced."""
    values = shaped_values | json_values(max_leaves=8)
    data = draw(st.dictionaries(PLAIN_KEYS, values, max_size=4))
    line = chain([data])[0]
    candidate = bytearray(line)
    for _ in range(draw(st.integers(1, 3))):
        at = draw(st.integers(0, len(candidate)))
        action = draw(st.sampled_from(["insert", "delete", "replace"]))
        byte = draw(st.sampled_from(b' "\\,:{}[]0-1.e+\x01\x7f\xc3tnu\xff'))
        if action == "insert":
            candidate[at:at] = bytes([byte])
        elif at < len(candidate):
            candidate[at : at + 1] = b"" if action == "delete" else bytes([byte])
    return line, bytes(candidate)


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_a_shape_matches_only_canonical_lines(case: tuple[bytes, bytes]) -> None:
    """Whatever a match accepts in plain text parses and is its own RFC 8785 form."""
    line, candidate = case
    pattern = line_pattern(orjson.loads(line))
    if pattern is None:
        return  # a float or an odd key: such lines are always parsed
    if plain_text(line):
        assert pattern.fullmatch(line) is not None
    if plain_text(candidate) and pattern.fullmatch(candidate) is not None:
        parsed = json.loads(candidate)
        assert canonicalize(parsed) == candidate
        assert orjson.loads(candidate) == parsed


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.binary(max_size=40).map(lambda b: b.replace(b"\n", b"")), max_size=30),
    st.integers(1, 64),
    st.booleans(),
)
def test_file_runs_cut_a_file_at_line_ends(
    tmp_path_factory: pytest.TempPathFactory, lines: list[bytes], block: int, final_newline: bool
) -> None:
    content = b"\n".join(lines) + (b"\n" if final_newline and lines else b"")
    path = tmp_path_factory.mktemp("runs") / "f"
    path.write_bytes(content)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(audit, "RUN_BYTES", block)
        runs = list(audit._file_runs(path, 0, len(content)))
    assert b"".join(runs) == content
    assert all(run.endswith(b"\n") for run in runs[:-1])
    assert all(run for run in runs)


def test_a_line_longer_than_a_run_verifies(tmp_path: Path) -> None:
    datas = [{**data_of(i), "blob": "x" * (i * 50_000)} for i in range(5)]
    findings, _ = same_verdict(write(tmp_path, chain(datas)))
    assert findings == []
