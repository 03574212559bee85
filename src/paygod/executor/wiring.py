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


def panic_switch_from_settings(settings: Settings, db: Database, clock: Clock) -> PanicSwitch:
    if not settings.distributed:
        return FilePanicSwitch(settings.home, clock)
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
    db: Database,
    clock: Clock,
    ledger: Any = None,
    *,
    outbox: OutboxStore | None = None,
) -> tuple[PanicService, Worker]:
    panic = PanicService(panic_switch_from_settings(settings, db, clock), ledger, settings.tenant)
    worker = Worker(
        outbox or outbox_store_for(db), panic.switch, clock, backoff=Backoff(), concurrency=8
    )
    return panic, worker
