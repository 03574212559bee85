"""Tampering is caught and named precisely, by the standalone verifier and by Paygod."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from paygod.kernel.clock import ManualClock
from paygod.kernel.database import SqliteDatabase, migrate
from paygod.ledger import EntryDraft, LedgerService
from paygod.ledger.fast_verify import verify_jsonl_report
from paygod.ledger.signing import TreeHeadSigner
from paygod.ledger.stores.memory import MemoryLedgerStore
from paygod.ledger.stores.sqlite import SqliteLedgerStore
from paygod.ledger.verifier import verify_jsonl

T0 = datetime(2026, 3, 1, tzinfo=UTC)


@pytest.fixture
def ledger() -> Iterator[LedgerService]:
    service = LedgerService(MemoryLedgerStore(), ManualClock(T0))
    service.append_many(
        [
            EntryDraft("observation", f"acct-{i}", {"amount": 100 + i, "note": "ok"})
            for i in range(6)
        ]
    )
    yield service
    service.close()


def export_lines(ledger: LedgerService) -> list[str]:
    out = io.BytesIO()
    ledger.export_jsonl(out)
    return out.getvalue().decode().splitlines()


def both(path: Path, **kwargs: Any) -> dict[str, Any]:
    """Run the standalone and the fast verifier; they must agree exactly."""
    standalone = verify_jsonl(path, **kwargs)
    fast = verify_jsonl_report(path, **kwargs).as_dict()
    assert standalone["findings"] == fast["findings"]
    assert standalone["root_hash"] == fast["root_hash"]
    return standalone


def write(tmp_path: Path, lines: list[str]) -> Path:
    path = tmp_path / "ledger.jsonl"
    path.write_text("".join(line + "\n" for line in lines))
    return path


def test_intact_export_verifies(ledger: LedgerService, tmp_path: Path) -> None:
    result = both(write(tmp_path, export_lines(ledger)))
    assert result["ok"] and result["tree_size"] == 6
    assert result["root_hash"] == ledger.root_hash()


def test_one_byte_of_payload_changed(ledger: LedgerService, tmp_path: Path) -> None:
    lines = export_lines(ledger)
    lines[3] = lines[3].replace('"amount":103', '"amount":113')
    finding = both(write(tmp_path, lines))["findings"][0]
    assert (finding["index"], finding["field"]) == (3, "record_hash")
    assert finding["expected"] != finding["found"]


def test_deleted_entry(ledger: LedgerService, tmp_path: Path) -> None:
    lines = export_lines(ledger)
    del lines[2]
    finding = both(write(tmp_path, lines))["findings"][0]
    assert (finding["index"], finding["field"]) == (2, "entry_index")
    assert (finding["expected"], finding["found"]) == (2, 3)
    assert "missing" in finding["message"]


def test_swapped_pair(ledger: LedgerService, tmp_path: Path) -> None:
    lines = export_lines(ledger)
    lines[1], lines[2] = lines[2], lines[1]
    finding = both(write(tmp_path, lines))["findings"][0]
    assert (finding["index"], finding["field"], finding["found"]) == (1, "entry_index", 2)


def test_swapped_pair_with_renumbered_indexes(ledger: LedgerService, tmp_path: Path) -> None:
    lines = [json.loads(line) for line in export_lines(ledger)]
    lines[1], lines[2] = lines[2], lines[1]
    lines[1]["entry_index"], lines[2]["entry_index"] = 1, 2
    finding = both(write(tmp_path, [json.dumps(x) for x in lines]))["findings"][0]
    assert (finding["index"], finding["field"]) == (1, "previous_hash")


def test_duplicated_entry(ledger: LedgerService, tmp_path: Path) -> None:
    lines = export_lines(ledger)
    lines.insert(3, lines[2])
    finding = both(write(tmp_path, lines))["findings"][0]
    assert (finding["index"], finding["field"], finding["found"]) == (3, "entry_index", 2)
    assert "duplicate" in finding["message"]


def test_truncated_tail_against_signed_head(ledger: LedgerService, tmp_path: Path) -> None:
    head = ledger.tree_head().as_dict()
    pem = ledger.public_key_pem()
    path = write(tmp_path, export_lines(ledger)[:4])
    assert both(path)["ok"]  # without a head, a shorter chain is a valid chain
    finding = both(path, tree_head=head, public_key_pem=pem)["findings"][0]
    assert (finding["field"], finding["expected"], finding["found"]) == ("tree_size", 6, 4)
    assert "tail was removed" in finding["message"]


def test_tree_head_forged_with_another_key(ledger: LedgerService, tmp_path: Path) -> None:
    path = write(tmp_path, export_lines(ledger))
    forged = TreeHeadSigner.generate().sign(6, ledger.root_hash(), "2026-03-01T00:00:00.000000Z")
    finding = both(path, tree_head=forged.as_dict(), public_key_pem=ledger.public_key_pem())[
        "findings"
    ][0]
    assert finding["field"] == "signature"
    # same key id, forged signature bytes
    real = ledger.tree_head().as_dict()
    real["signature"] = forged.signature
    finding = both(path, tree_head=real, public_key_pem=ledger.public_key_pem())["findings"][0]
    assert finding["field"] == "signature" and "invalid" in finding["message"]
    assert both(
        path, tree_head=ledger.tree_head().as_dict(), public_key_pem=ledger.public_key_pem()
    )["ok"]


def test_foreign_interchange_file_verifies(tmp_path: Path) -> None:
    """Any paygod/v1 file: arbitrary data objects, timestamps kept verbatim."""
    from paygod.ledger.verifier import GENESIS_HASH, record_hash

    previous, lines = GENESIS_HASH, []
    for i, data in enumerate([{"x": 1.5, "ü": [True, None]}, {"decision": "deny"}, {}]):
        timestamp = f"2024-01-0{i + 1} 10:00:00+01:00"
        rh = record_hash(data, previous, timestamp)
        lines.append(
            json.dumps(
                {"entry_index": i, "timestamp": timestamp, "previous_hash": previous,
                 "data": data, "record_hash": rh}
            )
        )  # fmt: skip
        previous = rh
    assert both(write(tmp_path, lines))["ok"]


def test_sqlite_ledger_tampered_in_place(tmp_path: Path) -> None:
    db = SqliteDatabase(tmp_path / "l.db")
    migrate(db)
    service = LedgerService(SqliteLedgerStore(db), ManualClock(T0))
    service.append_many([EntryDraft("observation", "s", {"n": i}) for i in range(5)])
    service.flush_tree_head()
    assert service.verify().ok
    conn = db.connect()
    conn.execute("UPDATE ledger_entries SET payload = '{\"n\":7}' WHERE seq = 2")
    report = service.verify()
    assert (report.findings[0].index, report.findings[0].field) == (2, "record_hash")
    conn.execute("UPDATE ledger_entries SET payload = '{\"n\":2}' WHERE seq = 2")
    conn.execute("DELETE FROM ledger_entries WHERE seq = 4")
    report = service.verify()
    assert report.findings[0].field == "entry_index"
    assert report.findings[0].index == 4
    conn.close()
    service.close()
    db.close()


@pytest.mark.parametrize(
    ("before", "after"),
    [
        # A reader that keeps the first value would see 999999; the hash covers 101.
        ('"payload":{"amount":101', '"payload":{"amount":999999,"amount":101'),
        # A second data member in front of the hashed one.
        ('{"data":{', '{"data":{"amount":5},"data":{'),
    ],
    ids=["payload", "top-level"],
)
def test_a_member_named_twice_is_refused_not_read_either_way(
    ledger: LedgerService, tmp_path: Path, before: str, after: str
) -> None:
    from paygod.kernel.errors import InvalidInput
    from paygod.ledger.verifier import Malformed

    lines = export_lines(ledger)
    assert before in lines[1]
    lines[1] = lines[1].replace(before, after, 1)
    path = write(tmp_path, lines)
    with pytest.raises(Malformed, match="line 2 repeats the member name"):
        verify_jsonl(path)
    with pytest.raises(InvalidInput, match="line 2 repeats the member name"):
        verify_jsonl_report(path)


def test_lines_not_in_canonical_form_still_verify(ledger: LedgerService, tmp_path: Path) -> None:
    # Another kernel's writer may space its lines out; that is not tampering.
    lines = [json.dumps(json.loads(line), indent=None) for line in export_lines(ledger)]
    assert ", " in lines[0]
    assert both(write(tmp_path, lines))["findings"] == []
