"""The SQLite account store: rows written on the ledger's write connection."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import Any

from paygod.accounting.stores.sql import SqlAccountSession
from paygod.kernel.database import SqliteDatabase


class SqliteAccountSession(SqlAccountSession):
    p = "?"
    # BEGIN IMMEDIATE (taken by the ledger's transaction) already excludes other writers.
    for_update = ""


class SqliteAccountStore:
    name = "sqlite"

    def __init__(self, db: SqliteDatabase) -> None:
        self.db = db

    def session(self, conn: Any) -> SqliteAccountSession:
        assert isinstance(conn, sqlite3.Connection), "the SQLite store needs a sqlite3 connection"
        return SqliteAccountSession(conn)

    @contextmanager
    def reading(self) -> Iterator[SqliteAccountSession]:
        yield SqliteAccountSession(self.db.connection())

    def exclusive(self) -> AbstractContextManager[None]:
        return nullcontext()
