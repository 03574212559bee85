"""The receipt a credit write returns: where its entry sits in the ledger, with an inclusion
proof under a signed tree head (the `ledger` member decisions return), checkable offline."""

from __future__ import annotations

import threading
import time
from typing import Any

from paygod.ledger import LedgerService
from paygod.ledger.model import Entry, SignedTreeHead

# Signing costs more than the rest of a receipt, and the writes of one group commit land
# under the same tree size: a head signed for one covers the others while it is this fresh
# (the rule decisions follow for theirs).
HEAD_REUSE_SECONDS = 1.0


class Receipts:
    def __init__(self, ledger: LedgerService) -> None:
        self.ledger = ledger
        self._lock = threading.Lock()
        self._head: tuple[float, SignedTreeHead] | None = None

    def __call__(self, entry: Entry) -> dict[str, Any]:
        head = self._covering_head(entry.seq)
        proof = self.ledger.inclusion_proof(entry.seq, head.tree_size)
        return {
            "seq": entry.seq,
            "entry_id": entry.entry_id,
            "record_hash": entry.record_hash,
            "recorded_at": entry.timestamp,
            "inclusion_proof": proof.as_dict(),
            "tree_head": head.as_dict(),
        }

    def _covering_head(self, seq: int) -> SignedTreeHead:
        head = self._fresh(seq)
        if head is not None:
            return head
        with self._lock:  # one caller signs; the others of its batch reuse its head
            head = self._fresh(seq)
            if head is None:
                head = self.ledger.receipt_head(seq)
                self._head = (time.monotonic(), head)
            return head

    def _fresh(self, seq: int) -> SignedTreeHead | None:
        cached = self._head
        if cached is None or cached[1].tree_size <= seq:
            return None
        if time.monotonic() - cached[0] >= HEAD_REUSE_SECONDS:
            return None
        return cached[1]
