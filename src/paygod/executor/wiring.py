"""Builds the executor's adapters from settings (called by the composition root).

standalone: file flag under PAYGOD_HOME, SQLite outbox (single writer).
distributed: Redis key with the DB row as fallback (or the row alone without Redis),
PostgreSQL outbox claimed with FOR UPDATE SKIP LOCKED.
"""

from __future__ import annotations

from typing import Any

from paygod.executor.backoff import Backoff
from paygod.executor.panic import PanicService
from paygod.executor.ports import OutboxStore, PanicSwitch
from paygod.executor.stores.outbox_memory import MemoryOutboxStore
from paygod.executor.stores.outbox_sql import PostgresOutboxStore, SqliteOutboxStore
from paygod.executor.stores.panic_db import DatabasePanicSwitch
from paygod.executor.stores.panic_file import FilePanicSwitch
from paygod.executor.worker import Worker
from paygod.kernel.clock import Clock
from paygod.kernel.database import Database, SqliteDatabase
from paygod.kernel.settings import Settings


def panic_switch_from_settings(
    settings: Settings, db: Database | None, clock: Clock
) -> PanicSwitch:
    if not settings.distributed:
        return FilePanicSwitch(settings.home, clock)
    assert db is not None, "a distributed kernel keeps the switch in its database"
    row = DatabasePanicSwitch(db, clock)
    if settings.redis_url:
        from paygod.executor.stores.panic_redis import RedisPanicSwitch

        return RedisPanicSwitch.from_url(settings.redis_url, row, clock)
    return row


def outbox_store_for(db: Database | None, memory_source: list[Any] | None = None) -> OutboxStore:
    if db is None:
        return MemoryOutboxStore(memory_source)
    if isinstance(db, SqliteDatabase):
        return SqliteOutboxStore(db)
    return PostgresOutboxStore(db)


def build_executor(
    settings: Settings,
    db: Database | None,
    clock: Clock,
    ledger: Any = None,
    *,
    outbox: OutboxStore | None = None,
    switch: PanicSwitch | None = None,
    backoff: Backoff | None = None,
    worker_id: str | None = None,
) -> tuple[PanicService, Worker]:
    """The panic switch and the outbox worker (not started). The keyword arguments replace
    the adapters and retry policy the settings would choose (tests pass memory ones)."""
    panic = PanicService(
        switch or panic_switch_from_settings(settings, db, clock), ledger, settings.tenant
    )
    worker = Worker(
        outbox or outbox_store_for(db),
        panic.switch,
        clock,
        worker_id=worker_id,
        backoff=backoff or Backoff(),
        concurrency=8,
    )
    return panic, worker
