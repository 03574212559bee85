"""The ledger: append-only, hash-chained, Merkle-proven, signed, bitemporal."""

from paygod.ledger.chain import presealed
from paygod.ledger.model import (
    OUTBOX_COLUMNS,
    ConsistencyProof,
    Entry,
    EntryDraft,
    Finding,
    InclusionProof,
    SignedTreeHead,
    VerifyReport,
)
from paygod.ledger.service import LedgerService

__all__ = [
    "OUTBOX_COLUMNS",
    "ConsistencyProof",
    "Entry",
    "EntryDraft",
    "Finding",
    "InclusionProof",
    "LedgerService",
    "SignedTreeHead",
    "VerifyReport",
    "presealed",
]
