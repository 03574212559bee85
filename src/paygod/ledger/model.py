"""The ledger's nouns: drafts, sealed entries, proofs, tree heads and verification findings."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson

from paygod.kernel.clock import isoformat, parse_instant
from paygod.kernel.events import EventEnvelope

GENESIS_HASH = "0" * 64
# The `outbox` table's columns (migration ledger_0001): the ledger writes its rows with the
# entries that carry the events; the executor reads them back (executor.model.OutboxMessage).
OUTBOX_COLUMNS = (
    "event_id",
    "entry_seq",
    "event_type",
    "tenant_id",
    "aggregate_id",
    "envelope",
    "status",
    "attempts",
    "available_at",
    "claimed_by",
    "claimed_until",
    "last_error",
    "created_at",
)


@dataclass(frozen=True, slots=True)
class EntryDraft:
    """What a caller wants recorded; the ledger gives it a seq, time and hashes."""

    kind: str
    subject: str
    payload: Mapping[str, Any]
    tenant_id: str = "default"
    valid_from: datetime | None = None
    valid_to: datetime | None = None
    supersedes: str | None = None
    events: tuple[EventEnvelope, ...] = ()
    # The payload's RFC 8785 bytes when computed before the ledger's single writer takes
    # the draft (`chain.presealed`); the writer then hashes them instead of serialising.
    payload_json: bytes | None = field(default=None, compare=False, repr=False)


def _iso(value: datetime | None) -> str | None:
    return None if value is None else isoformat(value)


@dataclass(frozen=True, slots=True)
class Entry:
    """A sealed, chained ledger entry. Never updated; corrections supersede it."""

    seq: int
    entry_id: str
    kind: str
    tenant_id: str
    subject: str
    payload: Mapping[str, Any]
    recorded_at: datetime
    valid_from: datetime | None
    valid_to: datetime | None
    supersedes: str | None
    previous_hash: str
    record_hash: str

    @property
    def timestamp(self) -> str:
        return isoformat(self.recorded_at)

    def data(self) -> dict[str, Any]:
        """The `data` object of the interchange form (DESIGN.md §4)."""
        return {
            "entry_id": self.entry_id,
            "kind": self.kind,
            "tenant_id": self.tenant_id,
            "subject": self.subject,
            "payload": dict(self.payload),
            "valid_from": _iso(self.valid_from),
            "valid_to": _iso(self.valid_to),
            "supersedes": self.supersedes,
        }

    def to_interchange(self) -> dict[str, Any]:
        """One line of `ledger.jsonl`: what other paygod/v1 kernels read and verify."""
        return {
            "entry_index": self.seq,
            "timestamp": self.timestamp,
            "previous_hash": self.previous_hash,
            "data": self.data(),
            "record_hash": self.record_hash,
        }

    def as_dict(self) -> dict[str, Any]:
        """The API/CLI view: the interchange object plus flat convenience fields."""
        return {
            "seq": self.seq,
            "entry_id": self.entry_id,
            "kind": self.kind,
            "tenant_id": self.tenant_id,
            "subject": self.subject,
            "payload": dict(self.payload),
            "recorded_at": self.timestamp,
            "valid_from": _iso(self.valid_from),
            "valid_to": _iso(self.valid_to),
            "supersedes": self.supersedes,
            "previous_hash": self.previous_hash,
            "record_hash": self.record_hash,
        }


class _SealedPayload:
    """`Entry.payload`, parsed from the sealed RFC 8785 text when first read.

    Sealing used to parse every payload back from its canonical bytes so that each entry
    holds its own copy of what was sealed (not the caller's dict, which it may still
    change). That parse was a third of the sealing loop, and most appended entries are
    never read back; so the slot holds the canonical text (a str: a payload is never one)
    until the first read, which parses it exactly as before and keeps the result. Nothing
    else changes: `Entry(payload=...)` stores a mapping as given, and equality, repr and
    pickling read through this.
    """

    def __init__(self, slot: Any) -> None:
        self._slot = slot  # the dataclass's own slot descriptor
        self._lock = threading.Lock()  # two first reads must not hand out two copies

    def __get__(self, entry: Any, owner: type | None = None) -> Any:
        if entry is None:
            return self
        value = self._slot.__get__(entry, owner)
        if type(value) is not str:
            return value
        with self._lock:
            value = self._slot.__get__(entry, owner)
            if type(value) is str:
                value = orjson.loads(value)
                self._slot.__set__(entry, value)
        return value

    def __set__(self, entry: Any, value: Any) -> None:
        self._slot.__set__(entry, value)


_payload_slot = Entry.__dict__["payload"]
# setattr: mypy refuses a class attribute over a slot, and this one wraps the slot itself.
setattr(Entry, "payload", _SealedPayload(_payload_slot))  # noqa: B010


class _Unsealed:
    """An Entry's slots, writable: `sealed_entry` fills them by plain assignment, then makes
    the object the Entry it is laid out as (the same slots in the same order, so CPython
    lets `__class__` switch between the two). A frozen dataclass's own __init__ has to go
    through `object.__setattr__` for every field: several times the cost, for every entry
    sealed."""

    __slots__ = (  # noqa: RUF023 (the order is the layout: Entry's own)
        "seq",
        "entry_id",
        "kind",
        "tenant_id",
        "subject",
        "payload",
        "recorded_at",
        "valid_from",
        "valid_to",
        "supersedes",
        "previous_hash",
        "record_hash",
    )

    def __init__(
        self,
        seq: int,
        entry_id: str,
        kind: str,
        tenant_id: str,
        subject: str,
        payload_json: str,
        recorded_at: datetime,
        valid_from: datetime | None,
        valid_to: datetime | None,
        supersedes: str | None,
        previous_hash: str,
        record_hash: str,
    ) -> None:
        self.seq = seq
        self.entry_id = entry_id
        self.kind = kind
        self.tenant_id = tenant_id
        self.subject = subject
        self.payload = payload_json  # parsed by `_SealedPayload` when first read
        self.recorded_at = recorded_at
        self.valid_from = valid_from
        self.valid_to = valid_to
        self.supersedes = supersedes
        self.previous_hash = previous_hash
        self.record_hash = record_hash
        self.__class__ = Entry  # type: ignore[assignment]


if _Unsealed.__slots__ != Entry.__slots__:
    raise ImportError("_Unsealed must lay out an Entry's slots exactly")

sealed_entry: Callable[..., Entry] = _Unsealed  # type: ignore[assignment]
"""`Entry(...)` for the sealing loop, at a third of the cost, taking the payload's sealed
RFC 8785 text (parsed when first read). The result is an ordinary, equally frozen Entry."""


@dataclass(frozen=True, slots=True)
class InclusionProof:
    leaf_index: int
    tree_size: int
    leaf_hash: str
    audit_path: tuple[str, ...]
    root_hash: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "leaf_index": self.leaf_index,
            "tree_size": self.tree_size,
            "leaf_hash": self.leaf_hash,
            "audit_path": list(self.audit_path),
            "root_hash": self.root_hash,
        }


@dataclass(frozen=True, slots=True)
class ConsistencyProof:
    first_size: int
    second_size: int
    first_root: str
    second_root: str
    consistency_path: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        return {
            "first_size": self.first_size,
            "second_size": self.second_size,
            "first_root": self.first_root,
            "second_root": self.second_root,
            "consistency_path": list(self.consistency_path),
        }


# One stored entry, as the stores keep it: seq, entry_id, kind, tenant_id, subject, payload
# (its sealed RFC 8785 text), recorded_at, valid_from, valid_to (ISO text or None),
# supersedes, previous_hash, record_hash.
EntryRow = tuple[int, str, str, str, str, str, str, str | None, str | None, str | None, str, str]


@dataclass(frozen=True, slots=True)
class ScanWindow:
    """Which entries a scan returns: seq from `start` and below `end`, of one of `kinds`,
    of one of `tenants`, recorded from `recorded_from` to `recorded_to` (ISO text, both
    included). `start` cuts a window into seq ranges that processes scan apart."""

    end: int
    kinds: tuple[str, ...]
    tenants: tuple[str, ...]
    recorded_from: str
    recorded_to: str
    start: int = 0

    def holds(self, row: EntryRow) -> bool:
        return (
            self.start <= row[0] < self.end
            and row[2] in self.kinds
            and row[3] in self.tenants
            and self.recorded_from <= row[6] <= self.recorded_to
        )


def entry_from_row(row: EntryRow) -> Entry:
    """The Entry a stored row holds; its payload is parsed when first read (sealed_entry)."""
    return sealed_entry(
        row[0],
        row[1],
        row[2],
        row[3],
        row[4],
        row[5],
        parse_instant(row[6]),
        parse_instant(row[7]) if row[7] else None,
        parse_instant(row[8]) if row[8] else None,
        row[9],
        row[10],
        row[11],
    )


@dataclass(frozen=True, slots=True)
class SignedTreeHead:
    """An Ed25519 signature over the RFC 8785 form of {tree_size, root_hash, timestamp, key_id}."""

    tree_size: int
    root_hash: str
    timestamp: str
    key_id: str
    signature: str

    def signed_part(self) -> dict[str, Any]:
        return {
            "tree_size": self.tree_size,
            "root_hash": self.root_hash,
            "timestamp": self.timestamp,
            "key_id": self.key_id,
        }

    def as_dict(self) -> dict[str, Any]:
        return {**self.signed_part(), "signature": self.signature}


@dataclass(frozen=True, slots=True)
class Finding:
    """The first thing found wrong: where (entry index), which field, expected vs found."""

    index: int | None
    field: str
    expected: Any
    found: Any
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "field": self.field,
            "expected": self.expected,
            "found": self.found,
            "message": self.message,
        }


@dataclass(frozen=True, slots=True)
class VerifyReport:
    entries_checked: int
    tree_size: int
    root_hash: str
    findings: tuple[Finding, ...] = ()
    tree_head: SignedTreeHead | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.findings

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "entries_checked": self.entries_checked,
            "tree_size": self.tree_size,
            "root_hash": self.root_hash,
            "tree_head": self.tree_head.as_dict() if self.tree_head else None,
            "findings": [f.as_dict() for f in self.findings],
            **dict(self.extra),
        }
