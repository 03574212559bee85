"""One contract for every AML alert store: memory, SQLite, PostgreSQL."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from paygod.aml.model import Alert
from paygod.aml.stores.alerts import MemoryAlertStore, SqlAlertStore
from paygod.kernel.database import Database, SqliteDatabase
from tests.contract.outbox_support import postgres_database, sqlite_database


@pytest.fixture(params=["memory", "sqlite", "postgres"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database | None]:
    if request.param == "memory":
        yield None
    elif request.param == "sqlite":
        db = sqlite_database(tmp_path)
        yield db
        db.close()
    else:
        with postgres_database(request.getfixturevalue("postgres_url")) as pg:
            yield pg


@contextlib.contextmanager
def transaction(db: Database | None) -> Iterator[Any]:
    if db is None:
        yield None
    elif isinstance(db, SqliteDatabase):
        conn = db.connection()
        with conn:
            yield conn
    else:
        with db.connection() as conn, conn.transaction():
            yield conn


def _store(db: Database | None) -> Any:
    return MemoryAlertStore() if db is None else SqlAlertStore(db)


def _alert(n: int, tenant: str = "t1", typology: str = "structuring") -> Alert:
    payload = {"alert_id": f"aml_{n}", "typology": typology, "transactions": [{"seq": n}]}
    raised = f"2026-03-01T00:00:0{n}.000000Z"
    return Alert(f"aml_{n}", tenant, f"key-{n}", typology, "acc-a", raised, payload)


def test_alerts_round_trip_and_a_key_is_raised_once(database: Database | None) -> None:
    store = _store(database)
    with transaction(database) as conn:
        assert store.add(conn, _alert(1)) is True
        assert store.add(conn, _alert(2, "t2", "fan_in")) is True
    with transaction(database) as conn:
        assert store.add(conn, _alert(1)) is False
    assert store.known("key-1") and not store.known("key-9")
    got = store.get("aml_1")
    assert got is not None and dict(got.payload) == dict(_alert(1).payload)
    assert store.get("aml_9") is None
    assert [a.alert_id for a in store.list("t1")] == ["aml_1"]
    assert [a.alert_id for a in store.list(None)] == ["aml_1", "aml_2"]
    assert [a.alert_id for a in store.list(None, "fan_in")] == ["aml_2"]
    assert store.list(None, until="2026-03-01T00:00:01.500000Z")[0].alert_id == "aml_1"
    assert len(store.list(None, until="2026-03-01T00:00:00.500000Z")) == 0


def test_the_cursor_moves_by_compare_and_swap(database: Database | None) -> None:
    store = _store(database)
    assert store.cursor() == -1
    with transaction(database) as conn:
        assert store.advance(conn, -1, 10) is True
    with transaction(database) as conn:
        assert store.advance(conn, -1, 12) is False  # someone else started first
        assert store.advance(conn, 5, 12) is False
    assert store.cursor() == 10
    with transaction(database) as conn:
        assert store.advance(conn, 10, 20) is True
    assert store.cursor() == 20
