"""The in-memory store: lists, for tests and for composing services without a database."""

from __future__ import annotations

import threading
from collections.abc import Callable, Container, Iterable, Iterator, Sequence
from datetime import datetime
from typing import Any

from paygod.kernel.clock import isoformat
from paygod.ledger.chain import ChainState, Sealed, entry_row
from paygod.ledger.groupcommit import WriteRequest
from paygod.ledger.model import Entry, EntryDraft, EntryRow, ScanWindow, SignedTreeHead
from paygod.ledger.stores.common import outbox_rows, run_requests


class MemoryLedgerStore:
    name = "memory"
    outbox_work_types: Container[str] | None = None  # see LedgerService.route_outbox

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._entries: list[Entry] = []
        self._by_id: dict[str, int] = {}
        self._levels: list[list[bytes]] = []
        self._state = ChainState()
        self._heads: list[SignedTreeHead] = []
        # Rows of the `outbox` table, as dicts with its columns; the executor consumes them.
        self.outbox: list[dict[str, Any]] = []

    # -- writes ---------------------------------------------------------------------------

    def _persist(self, staged: Sequence[Sealed]) -> None:
        """Make staged entries durable before they become visible (the jsonl store writes)."""

    def commit_batch(self, batch: Sequence[WriteRequest], now: datetime) -> ChainState:
        with self._lock:
            staged: list[Sealed] = []
            rows: list[dict[str, Any]] = []

            def isolate(position: int, step: Callable[[], Sealed]) -> Sealed:
                return step()

            def write(sealed: Sealed, drafts: Sequence[EntryDraft]) -> None:
                staged.append(sealed)
                rows.extend(outbox_rows(sealed, drafts, self.outbox_work_types))

            state = run_requests(batch, self._state, now, None, isolate=isolate, write=write)
            # A failed request raised before `write`, so everything staged belongs to a
            # request that succeeded.
            self._persist(staged)
            for sealed in staged:
                self._apply(sealed)
            self.outbox.extend(rows)
            self._state = state
            return state

    def _apply(self, sealed: Sealed) -> None:
        for entry in sealed.entries:
            self._by_id[entry.entry_id] = entry.seq
            self._entries.append(entry)
        for level, hashes in enumerate(sealed.levels):
            while len(self._levels) <= level:
                self._levels.append([])
            nodes = self._levels[level]
            if hashes and len(nodes) != sealed.first_size >> level:
                raise RuntimeError(f"merkle nodes of level {level} out of order")
            nodes.extend(hashes)

    # -- reads ----------------------------------------------------------------------------

    def state(self) -> ChainState:
        return self._state

    def get(self, seq: int) -> Entry | None:
        entries = self._entries
        return entries[seq] if 0 <= seq < len(entries) else None

    def get_by_id(self, entry_id: str) -> Entry | None:
        seq = self._by_id.get(entry_id)
        return None if seq is None else self._entries[seq]

    def entries(self, after: int = -1, limit: int = 100) -> list[Entry]:
        start = max(after + 1, 0)
        return self._entries[start : start + max(limit, 0)]

    def subject_entries(
        self, subject: str, tenant_id: str | None, recorded_until: str | None
    ) -> list[Entry]:
        return [
            e
            for e in self._entries
            if e.subject == subject
            and (tenant_id is None or e.tenant_id == tenant_id)
            and (recorded_until is None or isoformat(e.recorded_at) <= recorded_until)
        ]

    def latest_entry(self, subject: str, kind: str, recorded_until: str | None) -> Entry | None:
        for e in reversed(self._entries):
            if (
                e.subject == subject
                and e.kind == kind
                and (recorded_until is None or isoformat(e.recorded_at) <= recorded_until)
            ):
                return e
        return None

    def node(self, level: int, index: int) -> bytes:
        try:
            return self._levels[level][index]
        except IndexError:
            raise KeyError((level, index)) from None

    def nodes(self, keys: Iterable[tuple[int, int]]) -> dict[tuple[int, int], bytes]:
        levels = self._levels
        found = {}
        for level, index in keys:
            if level < len(levels) and 0 <= index < len(levels[level]):
                found[(level, index)] = levels[level][index]
        return found

    def node_span(self, level: int, start: int, end: int) -> bytes:
        nodes = self._levels[level] if level < len(self._levels) else []
        return b"".join(nodes[max(start, 0) : max(end, 0)])

    def scan(self, window: ScanWindow) -> Iterator[EntryRow]:
        for entry in self._entries[max(window.start, 0) : window.end]:
            row = entry_row(entry)
            if window.holds(row):
                yield row

    def save_tree_head(self, head: SignedTreeHead) -> None:
        with self._lock:
            self._heads.append(head)

    def latest_tree_head(self) -> SignedTreeHead | None:
        return self._heads[-1] if self._heads else None

    def probe_write(self) -> None:
        return None  # memory always takes writes

    def tree_heads(self) -> list[SignedTreeHead]:
        with self._lock:
            return sorted(self._heads, key=lambda head: head.tree_size)

    def opener(self) -> None:
        return None  # in this process's memory only

    def close(self) -> None:
        pass
