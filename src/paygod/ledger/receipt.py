"""Receipts: what a sealing write hands back so its caller can prove, offline, that it was
recorded — `{seq, first_seq, entry_id, record_hash, inclusion_proof, tree_head}`.

A write seals one or more consecutive entries in one transaction; its receipt is its LAST
entry's (seq, entry id, record hash), that entry's RFC 9162 inclusion proof, and a signed
tree head the proof verifies against; `first_seq` opens the range the write sealed
(`first_seq == seq` for one entry). Every entry of the range is under the same head, so
`GET /v1/ledger/proofs/inclusion/{n}?tree_size=<head's>` proves any other of them.

`collecting()` gathers what a piece of work sealed, across threads (a copied context
shares the same list) and across the steps of an event-loop request: the ledger notes
every committed write into the innermost collection.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

from paygod.ledger.model import Entry, SignedTreeHead

if TYPE_CHECKING:
    from paygod.ledger.service import LedgerService

# A head is reused while it covers the entry and is under a second old: signing costs
# more than the rest of a receipt, and the writes of one group commit share a tree size.
HEAD_REUSE_SECONDS = 1.0


class Collected:
    """What one piece of work sealed, and the ledger that sealed it."""

    __slots__ = ("entries", "ledger")

    def __init__(self) -> None:
        self.entries: list[Entry] = []
        self.ledger: LedgerService | None = None

    def receipt(self) -> dict[str, Any] | None:
        if self.ledger is None:
            return None
        return self.ledger.receipts.issue(self.entries)


_sealed: ContextVar[Collected | None] = ContextVar("paygod_sealed", default=None)


@contextmanager
def collecting() -> Iterator[Collected]:
    """Collect the entries the ledger commits for this context until the block ends."""
    sealed = Collected()
    token = _sealed.set(sealed)
    try:
        yield sealed
    finally:
        _sealed.reset(token)


def note(ledger: LedgerService, entries: Sequence[Entry]) -> None:
    """Called by the ledger with what one write committed."""
    sealed = _sealed.get()
    if sealed is not None and entries:
        sealed.entries.extend(entries)
        sealed.ledger = ledger


class Receipts:
    """Issues receipts for one ledger, sharing signed heads between close receipts."""

    def __init__(self, ledger: LedgerService) -> None:
        self._ledger = ledger
        self._head: tuple[float, SignedTreeHead] | None = None
        self._lock = threading.Lock()

    def issue(self, entries: Sequence[Entry]) -> dict[str, Any] | None:
        """The receipt of a write that sealed `entries` (in seq order), None if none."""
        if not entries:
            return None
        last = max(entries, key=lambda e: e.seq)
        head = self.covering_head(last.seq)
        proof = self._ledger.inclusion_proof(last.seq, head.tree_size)
        return {
            "seq": last.seq,
            "first_seq": min(e.seq for e in entries),
            "entry_id": last.entry_id,
            "record_hash": last.record_hash,
            "inclusion_proof": proof.as_dict(),
            "tree_head": head.as_dict(),
        }

    def covering_head(self, seq: int) -> SignedTreeHead:
        """A signed tree head covering entry `seq`. The callers of one batch wake together;
        the lock makes one of them sign while the others take its head."""
        head = self._fresh(seq)
        if head is not None:
            return head
        with self._lock:
            head = self._fresh(seq)
            if head is None:
                head = self._ledger.receipt_head(seq)
                self._head = (time.monotonic(), head)
            return head

    def _fresh(self, seq: int) -> SignedTreeHead | None:
        cached = self._head
        if cached is None or cached[1].tree_size <= seq:
            return None
        if time.monotonic() - cached[0] >= HEAD_REUSE_SECONDS:
            return None
        return cached[1]
