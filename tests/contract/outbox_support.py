"""Shared setup for executor contract tests: a migrated SQLite or PostgreSQL schema."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote
from uuid import uuid4

from paygod.kernel.database import Database, PostgresDatabase, SqliteDatabase, migrate

# The ledger module owns this table; the fallback lets executor tests run on a tree where
# the ledger migration is absent. Same columns as the common contract.
OUTBOX_DDL = (
    "CREATE TABLE IF NOT EXISTS outbox ("
    " event_id TEXT PRIMARY KEY, entry_seq INTEGER, event_type TEXT NOT NULL,"
    " tenant_id TEXT NOT NULL, aggregate_id TEXT NOT NULL, envelope TEXT NOT NULL,"
    " status TEXT NOT NULL DEFAULT 'pending', attempts INTEGER NOT NULL DEFAULT 0,"
    " available_at TEXT NOT NULL, claimed_by TEXT NULL, claimed_until TEXT NULL,"
    " last_error TEXT NULL, created_at TEXT NOT NULL)"
)


def sqlite_database(tmp_path: Path) -> SqliteDatabase:
    db = SqliteDatabase(tmp_path / "paygod.db")
    migrate(db)
    db.connection().execute(OUTBOX_DDL)
    return db


@contextlib.contextmanager
def postgres_database(base_url: str) -> Iterator[PostgresDatabase]:
    import psycopg

    schema = f"t_{uuid4().hex}"
    with psycopg.connect(base_url, autocommit=True) as admin:
        admin.execute(f"CREATE SCHEMA {schema}")
    sep = "&" if "?" in base_url else "?"
    url = f"{base_url}{sep}options={quote(f'-csearch_path={schema}')}"
    db = PostgresDatabase(url, max_size=4)
    try:
        migrate(db)
        with db.connection() as conn:
            conn.execute(OUTBOX_DDL)
        yield db
    finally:
        db.close()
        with psycopg.connect(base_url, autocommit=True) as admin:
            admin.execute(f"DROP SCHEMA {schema} CASCADE")


def insert_outbox_row(
    db: Database,
    event_id: str,
    event_type: str,
    available_at: str,
    seq: int = 0,
    tenant_id: str = "default",
) -> None:
    import orjson

    envelope = orjson.dumps(
        {"event_id": event_id, "event_type": event_type, "payload": {"n": seq}}
    ).decode()
    params = (
        event_id,
        seq,
        event_type,
        tenant_id,
        f"agg-{seq}",
        envelope,
        available_at,
        available_at,
    )
    if isinstance(db, SqliteDatabase):
        db.connection().execute(
            "INSERT INTO outbox (event_id, entry_seq, event_type, tenant_id, aggregate_id, "
            "envelope, available_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            params,
        )
    else:
        with db.connection() as conn:
            conn.execute(
                "INSERT INTO outbox (event_id, entry_seq, event_type, tenant_id, aggregate_id, "
                "envelope, available_at, created_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
                params,
            )
