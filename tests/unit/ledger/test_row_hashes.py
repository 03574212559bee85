"""row_hashes: the record hash and leaf of a stored row, recomputed without parsing it,
are the ledger's own; a payload stored in another spelling still hashes as sealed; an
edited one does not."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from paygod.kernel.clock import ManualClock
from paygod.ledger import EntryDraft, LedgerService
from paygod.ledger.chain import compute_record_hash, entry_leaf_hash, row_hashes, rows_hashes
from paygod.ledger.model import ScanWindow
from paygod.ledger.stores.memory import MemoryLedgerStore

T0 = datetime(2026, 1, 1, tzinfo=UTC)
TEXT = st.text(min_size=1, max_size=12)
JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53) + 1, 2**53 - 1) | TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3),
    max_leaves=8,
)


@settings(max_examples=60, deadline=None)
@given(TEXT, TEXT, st.dictionaries(TEXT, JSON, max_size=4), st.booleans())
def test_rows_hash_as_the_ledger_sealed_them(
    kind: str, subject: str, payload: dict[str, object], dated: bool
) -> None:
    store = MemoryLedgerStore()
    ledger = LedgerService(store, ManualClock(T0))
    first = ledger.append(EntryDraft("x", "s", {"n": 1}))
    entry = ledger.append(
        EntryDraft(
            kind, subject, payload, tenant_id="t",
            valid_from=T0 - timedelta(days=1) if dated else None,
            valid_to=T0 + timedelta(days=1) if dated else None,
            supersedes=first.entry_id if dated else None,
        )
    )  # fmt: skip
    window = ScanWindow(2, (kind,), ("t",), "0", "9")
    (row,) = [r for r in store.scan(window) if r[0] == entry.seq]
    assert row_hashes(row) == (entry.record_hash, entry_leaf_hash(entry))
    assert compute_record_hash(entry) == entry.record_hash
    ledger.close()


def test_a_respelled_payload_hashes_as_sealed_and_an_edited_one_does_not() -> None:
    store = MemoryLedgerStore()
    ledger = LedgerService(store, ManualClock(T0))
    entry = ledger.append(EntryDraft("x", "s", {"b": [1, 2], "a": "é"}))
    (row,) = store.scan(ScanWindow(1, ("x",), ("default",), "0", "9"))
    sealed = (entry.record_hash, entry_leaf_hash(entry))
    assert row[5] == '{"a":"é","b":[1,2]}'
    respelled = (*row[:5], '{ "b" : [1, 2], "a": "\\u00e9" }', *row[6:])
    assert row_hashes(respelled) == sealed
    edited = (*row[:5], '{"a":"é","b":[1,3]}', *row[6:])
    assert row_hashes(edited)[0] != entry.record_hash
    broken = (*row[:5], '{"a":', *row[6:])
    assert row_hashes(broken)[0] != entry.record_hash
    ledger.close()


def test_rows_hash_in_a_batch_as_one_by_one_plain_or_not() -> None:
    """rows_hashes checks the members' plainness once for the batch: a batch with one
    member that is not its own JSON string (a quote) hashes each row the exact way, and
    each comes out as the ledger sealed it; an edited row in a plain batch still fails."""
    store = MemoryLedgerStore()
    ledger = LedgerService(store, ManualClock(T0))
    plain = [ledger.append(EntryDraft("x", f"s{i}", {"n": i})) for i in range(3)]
    quoted = ledger.append(EntryDraft("x", 's"q', {"n": 9}))
    rows = list(store.scan(ScanWindow(4, ("x",), ("default",), "0", "9")))
    sealed = [(e.record_hash, entry_leaf_hash(e)) for e in [*plain, quoted]]
    assert rows_hashes(rows) == sealed == [row_hashes(r) for r in rows]
    assert rows_hashes(rows[:3]) == sealed[:3]
    edited = (*rows[1][:5], '{"n":7}', *rows[1][6:])
    found = rows_hashes([rows[0], edited, rows[2]])
    assert found[1][0] != plain[1].record_hash
    assert [found[0], found[2]] == [sealed[0], sealed[2]]
    ledger.close()
