"""The PostgreSQL account store: rows written on the ledger's write connection."""

from __future__ import annotations

from collections.abc import Collection, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import Any

from paygod.accounting.stores.sql import SqlAccountSession
from paygod.kernel.database import PostgresDatabase


class PostgresAccountSession(SqlAccountSession):
    p = "%s"
    # Row locks make read-decide-write safe even if two transactions run at once.
    for_update = " FOR UPDATE"

    def _in(self, column: str, values: Collection[str]) -> tuple[str, list[Any]]:
        return f"{column} = ANY(%s)", [list(values)]


class PostgresAccountStore:
    name = "postgres"

    def __init__(self, db: PostgresDatabase) -> None:
        self.db = db

    def session(self, conn: Any) -> PostgresAccountSession:
        return PostgresAccountSession(conn)

    @contextmanager
    def reading(self) -> Iterator[PostgresAccountSession]:
        with self.db.connection() as conn:
            yield PostgresAccountSession(conn)

    def exclusive(self) -> AbstractContextManager[None]:
        return nullcontext()
