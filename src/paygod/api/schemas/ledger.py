"""Success bodies of the ledger's read routes (`api/routers/ledger.py`)."""

from __future__ import annotations

from typing import Any

from paygod.api.schemas import Body


class EntryData(Body):
    entry_id: str
    kind: str
    tenant_id: str
    subject: str
    payload: dict[str, Any]
    valid_from: str | None
    valid_to: str | None
    supersedes: str | None


class Interchange(Body):
    """One line of `ledger.jsonl` (DESIGN.md section 4)."""

    entry_index: int
    timestamp: str
    previous_hash: str
    data: EntryData
    record_hash: str


class LedgerEntry(Body):
    seq: int
    entry_id: str
    kind: str
    tenant_id: str
    subject: str
    payload: dict[str, Any]
    recorded_at: str
    valid_from: str | None
    valid_to: str | None
    supersedes: str | None
    previous_hash: str
    record_hash: str


class LedgerEntryWithInterchange(LedgerEntry):
    interchange: Interchange


class EntriesPage(Body):
    entries: list[LedgerEntry]
    next_after: int | None


class TreeHead(Body):
    """Signed over the RFC 8785 form of {tree_size, root_hash, timestamp, key_id}."""

    tree_size: int
    root_hash: str
    timestamp: str
    key_id: str
    signature: str


class PublicKey(Body):
    key_id: str
    algorithm: str
    public_key_pem: str
    public_key_raw: str


class InclusionProof(Body):
    """RFC 9162 section 2.1.3; a tenant's proof also carries the head it was taken at."""

    leaf_index: int
    tree_size: int
    leaf_hash: str
    audit_path: list[str]
    root_hash: str
    tree_head: TreeHead | None = None


class ConsistencyProof(Body):
    """RFC 9162 section 2.1.4."""

    first_size: int
    second_size: int
    first_root: str
    second_root: str
    consistency_path: list[str]


class SubjectView(Body):
    subject: str
    recorded_at: str | None
    valid_at: str | None
    entries: list[LedgerEntry]
