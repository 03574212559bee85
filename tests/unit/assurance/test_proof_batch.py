"""Batched audit paths agree with the ledger's own per-entry proofs, at every size."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from paygod.assurance.proofs import ProofBatch
from paygod.kernel.clock import ManualClock
from paygod.ledger import EntryDraft, LedgerService
from paygod.ledger.stores.memory import MemoryLedgerStore

LEDGER = LedgerService(MemoryLedgerStore(), ManualClock(datetime(2026, 1, 1, tzinfo=UTC)))
LEDGER.append_many([EntryDraft("x", f"s{i}", {"i": i}) for i in range(300)])


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 300), st.data())
def test_paths_match_the_ledgers_inclusion_proofs(size: int, data: st.DataObject) -> None:
    first = data.draw(st.integers(0, size - 1))
    last = data.draw(st.integers(first, size - 1))
    batch = ProofBatch(LEDGER.store.nodes, size)
    batch.prefetch(first, last)
    for index in range(first, last + 1):
        expected = LEDGER.inclusion_proof(index, size)
        assert [h.hex() for h in batch.audit_path(index)] == list(expected.audit_path)
        assert batch.leaf(index).hex() == expected.leaf_hash
