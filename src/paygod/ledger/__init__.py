"""The ledger: append-only, hash-chained, Merkle-proven, signed, bitemporal."""

from paygod.ledger.model import (
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
    "ConsistencyProof",
    "Entry",
    "EntryDraft",
    "Finding",
    "InclusionProof",
    "LedgerService",
    "SignedTreeHead",
    "VerifyReport",
]
