"""Property: for any sequence of appends, every inclusion and consistency proof verifies with
the standalone verifier, and a proof for a modified leaf does not."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from paygod.kernel.clock import ManualClock
from paygod.ledger import EntryDraft, LedgerService
from paygod.ledger.stores.memory import MemoryLedgerStore
from paygod.ledger.verifier import check_consistency, check_inclusion

payloads = st.dictionaries(
    st.text(min_size=1, max_size=5),
    st.integers(min_value=-1000, max_value=1000) | st.text(max_size=8) | st.booleans(),
    max_size=3,
)
batches = st.lists(st.lists(payloads, min_size=1, max_size=4), min_size=1, max_size=6)


@settings(max_examples=40, deadline=None)
@given(batches, st.data())
def test_every_proof_verifies(
    batch_list: list[list[dict[str, object]]], data: st.DataObject
) -> None:
    ledger = LedgerService(MemoryLedgerStore(), ManualClock(datetime(2026, 1, 1, tzinfo=UTC)))
    try:
        for batch in batch_list:
            ledger.append_many([EntryDraft("observation", "s", p) for p in batch])
        size = ledger.size
        for tree_size in range(1, size + 1):
            for index in range(tree_size):
                proof = ledger.inclusion_proof(index, tree_size).as_dict()
                assert check_inclusion(proof) is None
        for first in range(0, size + 1):
            for second in range(first, size + 1):
                assert check_consistency(ledger.consistency_proof(first, second).as_dict()) is None
        index = data.draw(st.integers(min_value=0, max_value=size - 1))
        proof = ledger.inclusion_proof(index).as_dict()
        flipped = bytearray(bytes.fromhex(proof["leaf_hash"]))
        flipped[data.draw(st.integers(min_value=0, max_value=31))] ^= 1
        assert check_inclusion({**proof, "leaf_hash": flipped.hex()}) is not None
        if proof["audit_path"]:
            path = list(proof["audit_path"])
            path[0] = ("0" if path[0][0] != "0" else "1") + path[0][1:]
            assert check_inclusion({**proof, "audit_path": path}) is not None
        if size >= 2:
            first = data.draw(st.integers(min_value=1, max_value=size - 1))
            cons = ledger.consistency_proof(first, size).as_dict()
            bad_root = ("0" if cons["first_root"][0] != "0" else "1") + cons["first_root"][1:]
            assert check_consistency({**cons, "first_root": bad_root}) is not None
    finally:
        ledger.close()
