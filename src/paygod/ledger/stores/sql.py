"""Row mapping shared by the SQL adapters (SQLite and PostgreSQL)."""

from __future__ import annotations

from abc import ABC, abstractmethod
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


class SqlLedgerReads(ABC):
    """The read queries shared by the SQLite and PostgreSQL stores.

    They differ only in the parameter placeholder and in how a read reaches a connection
    (and how its failure becomes `Unavailable`), which each adapter supplies.
    """

    p = "?"
    _nodes: NodeCache

    @abstractmethod
    def _read(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        """Run one query on a reader connection and return its rows."""

    def state(self) -> ChainState:
        rows = self._read(
            "SELECT size, last_hash, last_recorded_at, frontier FROM ledger_head WHERE id = 1"
        )
        return row_to_state(rows[0])

    def get(self, seq: int) -> Entry | None:
        sql = f"SELECT {ENTRY_COLUMNS} FROM ledger_entries WHERE seq = {self.p}"
        rows = self._read(sql, (seq,))
        return row_to_entry(rows[0]) if rows else None

    def get_by_id(self, entry_id: str) -> Entry | None:
        sql = f"SELECT {ENTRY_COLUMNS} FROM ledger_entries WHERE entry_id = {self.p}"
        rows = self._read(sql, (entry_id,))
        return row_to_entry(rows[0]) if rows else None

    def entries(self, after: int = -1, limit: int = 100) -> list[Entry]:
        p = self.p
        rows = self._read(
            f"SELECT {ENTRY_COLUMNS} FROM ledger_entries WHERE seq > {p} ORDER BY seq LIMIT {p}",
            (after, max(limit, 0)),
        )
        return [row_to_entry(r) for r in rows]

    def subject_entries(
        self, subject: str, tenant_id: str | None, recorded_until: str | None
    ) -> list[Entry]:
        p = self.p
        sql = f"SELECT {ENTRY_COLUMNS} FROM ledger_entries WHERE subject = {p}"
        params: list[Any] = [subject]
        if tenant_id is not None:
            sql += f" AND tenant_id = {p}"
            params.append(tenant_id)
        if recorded_until is not None:
            sql += f" AND recorded_at <= {p}"
            params.append(recorded_until)
        rows = self._read(sql + " ORDER BY seq", params)
        return [row_to_entry(r) for r in rows]

    def node(self, level: int, index: int) -> bytes:
        key = (level, index)
        found = self._nodes.get(key)
        if found is None:
            p = self.p
            rows = self._read(
                f"SELECT hash FROM ledger_merkle WHERE level = {p} AND idx = {p}", (level, index)
            )
            if not rows:
                raise KeyError(key)
            found = bytes(rows[0][0])
            self._nodes.put(key, found)
        return found

    def latest_tree_head(self) -> SignedTreeHead | None:
        rows = self._read(
            f"SELECT {HEAD_COLUMNS} FROM ledger_tree_heads ORDER BY tree_size DESC LIMIT 1"
        )
        return row_to_head(rows[0]) if rows else None
