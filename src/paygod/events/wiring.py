"""Builds the relay's cursor store for the kernel's system of record."""

from __future__ import annotations

from typing import Any

from paygod.events.ports import RelayCursorStore
from paygod.events.stores.cursor_memory import MemoryRelayCursorStore
from paygod.events.stores.cursor_sql import PostgresRelayCursorStore, SqliteRelayCursorStore
from paygod.kernel.database import Database, SqliteDatabase


def cursor_store_for(
    db: Database | None, memory_outbox: list[dict[str, Any]] | None = None
) -> RelayCursorStore:
    if db is None:
        return MemoryRelayCursorStore(memory_outbox if memory_outbox is not None else [])
    if isinstance(db, SqliteDatabase):
        return SqliteRelayCursorStore(db)
    return PostgresRelayCursorStore(db)
