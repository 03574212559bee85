"""Upgrading a store that holds accounts and decisions from before owners were recorded.

`accounting_0002` adds `accounting_accounts.owner_id`, `decisions_0002` adds
`decision_index.requested_by`. Rows written before them keep working and read as owned by
no one: scope `all` still sees them, scope `own` does not.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote
from uuid import uuid4

import pytest
from alembic import command

from paygod.accounting.stores.postgres import PostgresAccountStore
from paygod.accounting.stores.sqlite import SqliteAccountStore
from paygod.decisions.stores.sql import SqlDecisionIndex
from paygod.kernel.database import (
    Database,
    PostgresDatabase,
    SqliteDatabase,
    applied_heads,
    migrate,
    migration_heads,
)
from paygod.kernel.migrations.runner import alembic_config

OLD = ("accounting_0001", "decisions_0001")


@pytest.fixture(params=["sqlite", "postgres"])
def old_db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    if request.param == "sqlite":
        db: Database = SqliteDatabase(tmp_path / "old.db")
        yield db
        db.close()
        return
    import psycopg

    base = request.getfixturevalue("postgres_url")
    schema = f"t_{uuid4().hex}"
    with psycopg.connect(base, autocommit=True) as admin:
        admin.execute(f"CREATE SCHEMA {schema}")
    sep = "&" if "?" in base else "?"
    pg = PostgresDatabase(f"{base}{sep}options={quote(f'-csearch_path={schema}')}", max_size=2)
    try:
        yield pg
    finally:
        pg.close()
        with psycopg.connect(base, autocommit=True) as admin:
            admin.execute(f"DROP SCHEMA {schema} CASCADE")


def _execute(db: Database, sql: str) -> None:
    if isinstance(db, SqliteDatabase):
        db.connection().execute(sql)
        db.connection().commit()
        return
    with db.connection() as conn:
        conn.execute(sql)
        conn.commit()


def test_rows_from_before_owners_read_as_owned_by_no_one(old_db: Database) -> None:
    cfg = alembic_config(old_db.sqlalchemy_url)
    for revision in OLD:  # each module's branch, as an older release left it
        command.upgrade(cfg, revision)
    _execute(
        old_db,
        "INSERT INTO accounting_accounts (tenant_id, id, ledger, code, created_at)"
        " VALUES ('acme', 'old-wallet', 'USD', 'asset', '2026-01-01T00:00:00Z')",
    )
    _execute(
        old_db,
        "INSERT INTO decision_index (decision_id, tenant_id, request_hash, subject, verdict,"
        " decided_at) VALUES ('old-decision', 'acme', 'h', 's', 'allow', '2026-01-01T00:00:00Z')",
    )

    assert set(OLD) <= applied_heads(old_db) and "accounting_0002" not in applied_heads(old_db)
    migrate(old_db)
    # Every module upgraded to its newest revision (accounting_0002, the owners, is below
    # accounting's valid-time revisions now; decisions_0004 on top of decisions_0002).
    assert applied_heads(old_db) == migration_heads()
    assert {"accounting_0004", "decisions_0004"} <= applied_heads(old_db)

    store = (
        SqliteAccountStore(old_db)
        if isinstance(old_db, SqliteDatabase)
        else PostgresAccountStore(old_db)
    )
    with store.reading() as session:
        assert [a.id for a in session.list_accounts("acme")] == ["old-wallet"]
        assert session.get_accounts("acme", ["old-wallet"])["old-wallet"].owner is None
        assert session.list_accounts("acme", owner="agent-1") == []
    row = SqlDecisionIndex(old_db).by_id("old-decision")
    assert row is not None and row.requested_by is None and row.pack is None
