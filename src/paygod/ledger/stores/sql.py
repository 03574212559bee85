"""Row mapping shared by the SQL adapters (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson

from paygod.kernel.clock import parse_instant
from paygod.ledger.chain import ChainState
from paygod.ledger.model import Entry, SignedTreeHead

ENTRY_COLUMNS = (
    "seq, entry_id, kind, tenant_id, subject, payload, recorded_at, valid_from, valid_to, "
    "supersedes, previous_hash, record_hash"
)
HEAD_COLUMNS = "tree_size, root_hash, timestamp, key_id, signature"
OUTBOX_INSERT_COLUMNS = (
    "event_id, entry_seq, event_type, tenant_id, aggregate_id, envelope, status, attempts, "
    "available_at, created_at"
)
NODE_CACHE_LIMIT = 1 << 16


def row_to_entry(row: Sequence[Any]) -> Entry:
    return Entry(
        seq=int(row[0]),
        entry_id=row[1],
        kind=row[2],
        tenant_id=row[3],
        subject=row[4],
        payload=orjson.loads(row[5]),
        recorded_at=parse_instant(row[6]),
        valid_from=parse_instant(row[7]) if row[7] else None,
        valid_to=parse_instant(row[8]) if row[8] else None,
        supersedes=row[9],
        previous_hash=row[10],
        record_hash=row[11],
    )


def entry_params(entries: Sequence[Entry], payloads: Sequence[str]) -> list[tuple[Any, ...]]:
    rows = []
    for entry, payload in zip(entries, payloads, strict=True):
        data = entry.data()
        rows.append(
            (
                entry.seq,
                entry.entry_id,
                entry.kind,
                entry.tenant_id,
                entry.subject,
                payload,
                entry.timestamp,
                data["valid_from"],
                data["valid_to"],
                entry.supersedes,
                entry.previous_hash,
                entry.record_hash,
            )
        )
    return rows


def row_to_state(row: Sequence[Any]) -> ChainState:
    return ChainState(
        size=int(row[0]),
        last_hash=row[1],
        last_recorded_at=row[2],
        frontier=ChainState.frontier_from_json(row[3]),
    )


def row_to_head(row: Sequence[Any]) -> SignedTreeHead:
    return SignedTreeHead(int(row[0]), row[1], row[2], row[3], row[4])


class NodeCache:
    """Merkle nodes never change once written, so a plain bounded dict is a correct cache."""

    def __init__(self) -> None:
        self._nodes: dict[tuple[int, int], bytes] = {}

    def get(self, key: tuple[int, int]) -> bytes | None:
        return self._nodes.get(key)

    def put(self, key: tuple[int, int], value: bytes) -> None:
        if len(self._nodes) >= NODE_CACHE_LIMIT:
            self._nodes.clear()
        self._nodes[key] = value
