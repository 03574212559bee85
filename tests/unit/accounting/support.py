"""Test wiring for accounting: services over memory or SQLite with a real or stand-in ledger."""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote
from uuid import uuid4

from paygod.accounting.service import AccountingService
from paygod.accounting.stores.memory import MemoryAccountStore
from paygod.kernel.clock import ManualClock

START = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Draft:
    kind: str
    subject: str
    payload: Any
    tenant_id: str = "default"
    events: tuple[Any, ...] = ()
    valid_from: Any = None


@dataclass(frozen=True)
class Recorded:
    seq: int
    kind: str
    subject: str
    payload: Any
    tenant_id: str
    events: tuple[Any, ...] = ()


@dataclass
class StandInLedger:
    """The ledger contract accounting relies on: transact is atomic, entries page in order."""

    conn_factory: Callable[[], Any] | None = None
    recorded: list[Recorded] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def transact(self, work: Callable[[Any], tuple[Any, Sequence[Any]]]) -> tuple[Any, list[Any]]:
        with self.lock:
            if self.conn_factory is None:
                result, drafts = work(None)
            else:
                conn = self.conn_factory()
                try:
                    conn.execute("BEGIN IMMEDIATE")
                    try:
                        result, drafts = work(conn)
                    except BaseException:
                        conn.execute("ROLLBACK")
                        raise
                    conn.execute("COMMIT")
                finally:
                    conn.close()
            base = len(self.recorded)
            entries = [
                Recorded(base + i, d.kind, d.subject, d.payload, d.tenant_id, d.events)
                for i, d in enumerate(drafts)
            ]
            self.recorded.extend(entries)
            return result, list(entries)

    def entries(self, after: int = -1, limit: int = 100) -> list[Any]:
        return self.recorded[after + 1 : after + 1 + limit]

    def history(self, subject: str, tenant_id: str | None = None) -> list[Any]:
        return [
            e
            for e in self.recorded
            if e.subject == subject and (tenant_id is None or e.tenant_id == tenant_id)
        ]


def memory_service(clock: ManualClock | None = None) -> AccountingService:
    return AccountingService(
        MemoryAccountStore(), StandInLedger(), clock or ManualClock(START), Draft
    )


def sqlite_connect(path: Any) -> Callable[[], sqlite3.Connection]:
    def connect() -> sqlite3.Connection:
        return sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=30)

    return connect


def sqlite_service(path: Any, clock: ManualClock | None = None) -> AccountingService:
    from paygod.accounting.stores.sqlite import SqliteAccountStore
    from paygod.kernel.database import SqliteDatabase, migrate

    db = SqliteDatabase(path)
    migrate(db)
    return AccountingService(
        SqliteAccountStore(db),
        StandInLedger(conn_factory=sqlite_connect(path)),
        clock or ManualClock(START),
        Draft,
    )


@contextlib.contextmanager
def postgres_schema(base_url: str) -> Iterator[str]:
    """A fresh, migrated schema; yields a URL whose search_path points at it."""
    import psycopg

    from paygod.kernel.database import PostgresDatabase, migrate

    schema = f"t_{uuid4().hex}"
    with psycopg.connect(base_url, autocommit=True) as admin:
        admin.execute(f"CREATE SCHEMA {schema}")
    sep = "&" if "?" in base_url else "?"
    url = f"{base_url}{sep}options={quote(f'-csearch_path={schema}')}"
    try:
        db = PostgresDatabase(url, max_size=2)
        migrate(db)
        db.close()
        yield url
    finally:
        with psycopg.connect(base_url, autocommit=True) as admin:
            admin.execute(f"DROP SCHEMA {schema} CASCADE")
