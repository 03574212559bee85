"""LeafPaths: the audit paths of a run of leaves read off one window of the stored tree
equal the ledger's own per-leaf proofs, at every tree size (powers of two or not), also
when a stored node was edited; and it proves no leaf the RFC 9162 verifier refuses."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from paygod.kernel.clock import ManualClock
from paygod.ledger import EntryDraft, LedgerService
from paygod.ledger.merkle import LeafPaths, inclusion_proof
from paygod.ledger.stores.memory import MemoryLedgerStore
from paygod.ledger.verifier import verify_inclusion_raw

STORE = MemoryLedgerStore()
LEDGER = LedgerService(STORE, ManualClock(datetime(2026, 1, 1, tzinfo=UTC)))
LEDGER.append_many([EntryDraft("x", f"s{i}", {"i": i}) for i in range(300)])


class Edited:
    """The store's nodes with one of them replaced (a stored hash tampered with)."""

    def __init__(self, level: int, index: int) -> None:
        self.key = (level, index)

    def _hash(self, level: int, index: int) -> bytes:
        found = STORE.node(level, index)
        return bytes(32) if (level, index) == self.key else found

    def span(self, level: int, start: int, end: int) -> bytes:
        return b"".join(self._hash(level, i) for i in range(start, end))

    def node(self, level: int, index: int) -> bytes:
        return self._hash(level, index)

    def many(self, keys: Iterable[tuple[int, int]]) -> dict[tuple[int, int], bytes]:
        return {(lv, i): self._hash(lv, i) for lv, i in keys}


@settings(max_examples=80, deadline=None)
@given(st.integers(1, 300), st.data())
def test_paths_match_the_ledgers_inclusion_proofs(size: int, data: st.DataObject) -> None:
    first = data.draw(st.integers(0, size - 1))
    last = data.draw(st.integers(first, size - 1))
    paths = LeafPaths(STORE.node_span, STORE.nodes, size, first, last)
    root = bytes.fromhex(LEDGER.root_hash(size))
    for index in range(first, last + 1):
        expected = LEDGER.inclusion_proof(index, size)
        assert [h.hex() for h in paths.path(index)] == list(expected.audit_path)
        assert paths.path_hex(index) == ",".join(expected.audit_path)
        assert paths.leaf(index).hex() == expected.leaf_hash
        assert paths.proves(index, paths.leaf(index), root)
        assert not paths.proves(index, bytes(32), root)


@settings(max_examples=80, deadline=None)
@given(st.integers(2, 300), st.data())
def test_under_a_tampered_node_paths_stay_the_single_proofs_and_proves_stays_sound(
    size: int, data: st.DataObject
) -> None:
    first = data.draw(st.integers(0, size - 1))
    last = data.draw(st.integers(first, size - 1))
    level = data.draw(st.integers(0, (size - 1).bit_length() - 1))
    index = data.draw(st.integers(0, (size >> level) - 1))
    edited = Edited(level, index)
    paths = LeafPaths(edited.span, edited.many, size, first, last)
    root = bytes.fromhex(LEDGER.root_hash(size))
    failing = set()
    for leaf in range(first, last + 1):
        single = inclusion_proof(edited.node, size, leaf, size)
        assert [h.hex() for h in paths.path(leaf)] == list(single.audit_path)
        sealed = STORE.node(0, leaf)  # the leaf as sealed; its proof reads the edited tree
        holds = verify_inclusion_raw(leaf, size, sealed, paths.path(leaf), root) is None
        # A leaf `proves` does not prove is folded by the caller (seal_rows): it must
        # never prove one the verifier refuses.
        assert holds or not paths.proves(leaf, sealed, root)
        if not holds:
            failing.add(leaf)
    # The edited node's sibling subtree reads it as a path element: those leaves fail.
    sibling = range((index ^ 1) << level, min(((index ^ 1) + 1) << level, size))
    assert failing >= {leaf for leaf in sibling if first <= leaf <= last}
