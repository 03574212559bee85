"""The fast jsonl verifier reaches exactly the exact walk's verdict, line form by line form."""

from __future__ import annotations

import hashlib
import io
import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from paygod.canonical import CanonicalizationError, canonicalize
from paygod.kernel.clock import ManualClock
from paygod.ledger import EntryDraft, LedgerService
from paygod.ledger.fast_verify import fast_verify, orjson_is_jcs, scan, verify_jsonl_report
from paygod.ledger.stores.memory import MemoryLedgerStore
from paygod.ledger.verifier import GENESIS_HASH, verify_jsonl
from tests.support.json_strategies import json_values as shared_json_values

T0 = datetime(2026, 3, 1, tzinfo=UTC)


def exact(path: Path, **kwargs: Any) -> dict[str, Any]:
    return verify_jsonl(path, **kwargs)  # the standalone verifier: the reference verdict


def export(payloads: list[dict[str, Any]]) -> list[bytes]:
    service = LedgerService(MemoryLedgerStore(), ManualClock(T0))
    try:
        service.append_many([EntryDraft("observation", f"s{i}", p) for i, p in enumerate(payloads)])
        out = io.BytesIO()
        service.export_jsonl(out)
    finally:
        service.close()
    return out.getvalue().splitlines()


def write(tmp_path: Path, lines: list[bytes], name: str = "ledger.jsonl") -> Path:
    path = tmp_path / name
    path.write_bytes(b"".join(line + b"\n" for line in lines))
    return path


def orjson_line(obj: Any) -> bytes:
    return orjson.dumps(obj, option=orjson.OPT_SORT_KEYS)


def rechain(datas: list[Any], render: Any = orjson_line) -> list[bytes]:
    """A foreign file: lines hashed right by the RFC 8785 definition, rendered by `render`."""
    previous = GENESIS_HASH
    lines = []
    for index, data in enumerate(datas):
        timestamp = f"2026-03-01T00:00:{index:02d}Z"
        record = {"data": data, "previous_hash": previous, "timestamp": timestamp}
        digest = hashlib.sha256(canonicalize(record)).hexdigest()
        obj = {**record, "entry_index": index, "record_hash": digest}
        previous = digest
        lines.append(render(obj))
    return lines


def test_fast_path_takes_our_exports_and_agrees(tmp_path: Path) -> None:
    lines = export([{"amount": i, "note": "ok", "ref": f"urn:x:{i}"} for i in range(40)])
    path = write(tmp_path, lines)
    fast = fast_verify(path)
    assert fast is not None, "an intact export of ours must not need the exact walk"
    reference = exact(path)
    assert fast["ok"] and reference["ok"]
    assert fast["root_hash"] == reference["root_hash"]
    assert fast["entries_checked"] == reference["entries_checked"] == 40


@pytest.mark.parametrize(
    "payload",
    [
        {"x": 1.0},  # orjson writes 1.0, RFC 8785 writes 1
        {"x": -0.0},
        {"x": 1e16},  # orjson 1e+16, RFC 8785 10000000000000000
        {"x": 2.5e-6},  # orjson 2.5e-6, RFC 8785 0.0000025
        {"x": 0.5, "y": 1e21, "z": 1e-7},  # the same in both
        {"\U0001f600": 1, "\ufb01": 2},  # astral key: JCS sorts by UTF-16 units
        {"phone": "+44 20", "v": "v1.0,", "e": "e-6,"},  # float-like text inside strings
        {"name": "Zoë \u2028 \x1f"},
    ],
)
def test_number_and_key_forms_where_orjson_differs(tmp_path: Path, payload: Any) -> None:
    path = write(tmp_path, rechain([{"n": 1}, payload, {"n": 2}]))
    fast = fast_verify(path)  # such a line is hashed exactly, inside the fast pass
    reference = exact(path)
    assert fast is not None and fast["ok"] and reference["ok"]
    assert fast["root_hash"] == reference["root_hash"]
    assert verify_jsonl_report(path).as_dict()["root_hash"] == reference["root_hash"]


def test_non_canonical_lines_hashed_canonically_verify(tmp_path: Path) -> None:
    # Spaces, unsorted keys and a \u escape: not RFC 8785 form, yet correctly hashed.
    lines = rechain([{"b": 1, "a": "A"}, {"k": [1, 2]}], lambda o: json.dumps(o).encode())
    lines[0] = lines[0].replace(b'"A"', b'"\\u0041"')
    assert b"\\u0041" in lines[0] and b", " in lines[0]
    path = write(tmp_path, lines)
    reference = exact(path)
    assert reference["ok"]
    assert verify_jsonl_report(path).as_dict()["root_hash"] == reference["root_hash"]
    assert verify_jsonl_report(path).ok


def test_self_consistent_non_canonical_line_is_still_a_bad_record_hash(tmp_path: Path) -> None:
    """A writer that hashed its own non-canonical bytes is caught, exactly as by the walk."""
    lines = export([{"a": 1}, {"a": 2}])
    obj = json.loads(lines[1])
    spaced = json.dumps(obj["data"], separators=(", ", ": "))
    previous, timestamp = obj["previous_hash"], obj["timestamp"]
    raw_input = f'{{"data":{spaced},"previous_hash":"{previous}","timestamp":"{timestamp}"}}'
    obj["record_hash"] = hashlib.sha256(raw_input.encode()).hexdigest()
    lines[1] = (
        f'{{"data":{spaced},"entry_index":1,"previous_hash":"{obj["previous_hash"]}",'
        f'"record_hash":"{obj["record_hash"]}","timestamp":"{obj["timestamp"]}"}}'
    ).encode()
    path = write(tmp_path, lines)
    reference = exact(path)
    result = verify_jsonl_report(path).as_dict()
    assert not reference["ok"]
    assert result["findings"] == reference["findings"]
    assert result["findings"][0]["field"] == "record_hash"


def test_extra_member_is_judged_by_the_exact_walk(tmp_path: Path) -> None:
    lines = export([{"a": 1}])
    lines[0] = lines[0][:-1] + b',"zz":1}'
    path = write(tmp_path, lines)
    assert scan(path.read_bytes()) is None
    assert verify_jsonl_report(path).as_dict()["findings"] == exact(path)["findings"]


@pytest.mark.parametrize("parts", [2, 3, 7])
def test_pieces_join_to_the_whole(tmp_path: Path, parts: int) -> None:
    lines = export([{"i": i, "pad": "x" * (i % 13)} for i in range(75)])
    path = write(tmp_path, lines)
    whole = fast_verify(path, parts=1)
    pieced = fast_verify(path, parts=parts, fork=False)
    assert whole is not None and pieced is not None
    assert pieced == whole
    assert pieced["root_hash"] == exact(path)["root_hash"]


@pytest.mark.parametrize("parts", [2, 5])
def test_pieces_that_do_not_join_go_to_the_exact_walk(tmp_path: Path, parts: int) -> None:
    lines = export([{"i": i} for i in range(60)])
    del lines[45]  # a removed entry inside a later piece
    path = write(tmp_path, lines)
    assert fast_verify(path, parts=parts, fork=False) is None
    result = verify_jsonl_report(path).as_dict()
    assert result["findings"] == exact(path)["findings"]
    assert result["findings"][0]["index"] == 45


def test_forked_scan_in_a_single_threaded_process(tmp_path: Path) -> None:
    """The forked path, run where forking is allowed (no other threads): same verdict."""
    lines = export([{"i": i} for i in range(300)])
    path = write(tmp_path, lines)
    tampered = write(
        tmp_path,
        [*lines[:200], lines[200].replace(b'"i":200', b'"i":201'), *lines[201:]],
        "t.jsonl",
    )
    program = (
        "import json, sys\n"
        "from pathlib import Path\n"
        "import paygod.ledger.fast_verify as audit\n"
        "assert audit._can_fork(), 'this process must be single-threaded on 2+ cores'\n"
        "good = audit.fast_verify(Path(sys.argv[1]), parts=2)\n"
        "bad = audit.fast_verify(Path(sys.argv[2]), parts=2)\n"
        "print(json.dumps([good and good['root_hash'], bad]))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", program, str(path), str(tampered)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if "must be single-threaded" in done.stderr:
        pytest.skip("fewer than two CPUs available to this process")
    assert done.returncode == 0, done.stderr
    good_root, bad = json.loads(done.stdout)
    assert good_root == exact(path)["root_hash"]
    assert bad is None  # the tampered half sends the file to the exact walk
    assert exact(tampered)["findings"][0]["field"] == "record_hash"


def test_tree_head_checked_on_the_fast_path(tmp_path: Path) -> None:
    service = LedgerService(MemoryLedgerStore(), ManualClock(T0))
    try:
        service.append_many([EntryDraft("observation", "s", {"i": i}) for i in range(9)])
        head = service.flush_tree_head().as_dict()
        pem = service.public_key_pem()
        out = io.BytesIO()
        service.export_jsonl(out)
    finally:
        service.close()
    lines = out.getvalue().splitlines()
    path = write(tmp_path, lines)
    fast = fast_verify(path, head, pem)
    assert fast is not None and fast["ok"]
    assert fast["tree_head"] == head
    cut = write(tmp_path, lines[:7], "cut.jsonl")
    result = verify_jsonl_report(cut, tree_head=head, public_key_pem=pem).as_dict()
    reference = exact(cut, tree_head=head, public_key_pem=pem)
    assert result["findings"] == reference["findings"]
    assert result["findings"][0]["field"] == "tree_size"


json_values = shared_json_values()


@settings(max_examples=500, deadline=None)
@given(json_values)
def test_orjson_form_accepted_only_when_it_is_rfc8785(value: Any) -> None:
    value = {"v": value}  # a line is an object: every number is followed by a delimiter
    try:
        reference = canonicalize(value)
        line = orjson.dumps(value, option=orjson.OPT_SORT_KEYS | orjson.OPT_STRICT_INTEGER)
    except (CanonicalizationError, orjson.JSONEncodeError):
        return
    if orjson_is_jcs(line):
        assert line == reference


@settings(max_examples=300, deadline=None)
@given(st.floats(allow_nan=False, allow_infinity=False))
def test_every_float_form_accepted_only_when_it_is_rfc8785(value: float) -> None:
    line = orjson.dumps({"x": [value, {"y": value}]}, option=orjson.OPT_SORT_KEYS)
    if orjson_is_jcs(line):
        assert line == canonicalize({"x": [value, {"y": value}]})


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=0, max_value=1000), st.integers(min_value=0, max_value=150))
def test_compact_range_matches_leaf_by_leaf_merging(start: int, count: int) -> None:
    """The level-by-level compact range equals merging one leaf at a time (RFC 9162)."""
    from paygod.ledger.fast_verify import _push, compact_range

    leaves = [hashlib.sha256(i.to_bytes(4, "big")).digest() for i in range(count)]
    edge: list[tuple[int, int, bytes]] = []
    for offset, leaf in enumerate(leaves):
        _push(edge, start + offset, 0, leaf)
    assert compact_range(start, leaves) == edge
    if start == 0 and leaves:
        root = edge[-1][2]
        for _, _, left in reversed(edge[:-1]):
            root = hashlib.sha256(b"\x01" + left + root).digest()
        from paygod.ledger.verifier import merkle_root

        assert root == merkle_root(leaves)
