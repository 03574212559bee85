"""The receipt a credit write returns: where its entry sits in the ledger, with an inclusion
proof under a signed tree head (the `ledger` member decisions return), checkable offline."""

from __future__ import annotations

from typing import Any

from paygod.ledger import LedgerService
from paygod.ledger.model import Entry


def receipt(ledger: LedgerService, entry: Entry) -> dict[str, Any]:
    head = ledger.receipt_head(entry.seq)
    proof = ledger.inclusion_proof(entry.seq, head.tree_size)
    return {
        "seq": entry.seq,
        "entry_id": entry.entry_id,
        "record_hash": entry.record_hash,
        "recorded_at": entry.timestamp,
        "inclusion_proof": proof.as_dict(),
        "tree_head": head.as_dict(),
    }
