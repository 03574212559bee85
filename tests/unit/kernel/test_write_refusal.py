"""`write_refusal` names a store that refuses writes, from the drivers' real errors, and
nothing else (a constraint violation is the request's fault, not the store's)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from paygod.kernel.database import write_refusal
from paygod.kernel.errors import Unavailable


def _sqlite_error(path: Path, sql: str, uri_mode: str = "rw") -> sqlite3.Error:
    conn = sqlite3.connect(f"file:{path}?mode={uri_mode}", uri=True, isolation_level=None)
    try:
        conn.execute(sql)
    except sqlite3.Error as exc:
        return exc
    finally:
        conn.close()
    raise AssertionError("the statement succeeded")


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "t.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY)")
    conn.execute("INSERT INTO t VALUES (1)")
    conn.commit()
    conn.close()
    return path


def test_a_read_only_sqlite_file_is_a_refusal(db: Path) -> None:
    exc = _sqlite_error(db, "INSERT INTO t VALUES (2)", "ro")
    reason = write_refusal(exc)
    assert reason is not None and "read-only" in reason


def test_a_full_sqlite_file_is_a_refusal(db: Path) -> None:
    conn = sqlite3.connect(db, isolation_level=None)
    pages = conn.execute("PRAGMA page_count").fetchone()[0]
    conn.execute(f"PRAGMA max_page_count = {pages}")  # the file may not grow: SQLITE_FULL
    with pytest.raises(sqlite3.Error) as info:
        conn.execute("CREATE TABLE big (x)")
        conn.execute("INSERT INTO big VALUES (zeroblob(100000))")
    conn.close()
    reason = write_refusal(info.value)
    assert reason is not None and "full" in reason


def test_a_constraint_violation_is_not_a_refusal(db: Path) -> None:
    assert write_refusal(_sqlite_error(db, "INSERT INTO t VALUES (1)")) is None
    assert write_refusal(ValueError("no")) is None
    assert write_refusal(None) is None


def test_the_cause_of_an_adapter_error_is_read(db: Path) -> None:
    try:
        try:
            raise _sqlite_error(db, "INSERT INTO t VALUES (3)", "ro")
        except sqlite3.Error as exc:
            raise Unavailable("store down") from exc
    except Unavailable as outer:
        assert write_refusal(outer) is not None


def test_a_read_only_postgres_transaction_is_a_refusal(postgres_url: str) -> None:
    import psycopg

    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute("SET default_transaction_read_only = on")
        with pytest.raises(psycopg.Error) as info:
            conn.execute("CREATE TEMP TABLE never (x int)")
            conn.execute("CREATE TABLE never_here (x int)")
    reason = write_refusal(info.value)
    assert reason is not None and "25006" in reason
