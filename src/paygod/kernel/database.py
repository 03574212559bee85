"""Connections to the system of record: SQLite (standalone) or PostgreSQL (distributed).

Stores receive one of these from the composition root; none opens its own
connection from a global. Schema changes go through Alembic (`migrate`), each
domain module owning the revisions under its own `migrations/versions` folder.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from paygod.kernel.errors import Unavailable

if TYPE_CHECKING:
    import psycopg
    from psycopg_pool import ConnectionPool

# Modules whose tables live in the system of record. A module listed here keeps its
# Alembic revisions in `paygod/<module>/migrations/versions`; a missing folder is skipped.
MIGRATING_MODULES = (
    "ledger",
    "decisions",
    "accounting",
    "executor",
    "payments",
    "identity",
    "risk",
    "compliance",
    "cases",
    "credit",
    "governance",
    "events",
)

SQLITE_PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    # FULL: a commit is on disk before we acknowledge it; kill -9 or power loss
    # never loses an acknowledged entry.
    "PRAGMA synchronous=FULL",
    "PRAGMA foreign_keys=ON",
    "PRAGMA busy_timeout=10000",
)


class WriteLock:
    """One writer at a time across the threads of this process and across processes.

    SQLite lets one connection write at a time; the others wait in its busy handler,
    which sleeps (1, 2, 5, 10 ms...) and retries, so a writer that could start the moment
    the one before it commits sleeps milliseconds instead. Writers take this lock around
    their write transactions: a thread lock for this process's writers (the ledger's group
    commit, the outbox worker's claims and acks), then an advisory `flock` on a file beside
    the database for the other processes (a second `serve` worker, a CLI command), which
    the kernel hands over the moment it is released. Reentrant per thread, like the
    thread lock: a write inside a write on the same thread stays legal.
    """

    def __init__(self, path: Path) -> None:
        self._path = path
        self._thread_lock = threading.RLock()
        self._depth = 0
        self._fd: int | None = None

    def __enter__(self) -> WriteLock:
        self._thread_lock.acquire()
        if self._depth == 0:
            try:
                if self._fd is None:
                    self._fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600)
                fcntl.flock(self._fd, fcntl.LOCK_EX)
            except OSError:
                # No lock file (a read-only folder): SQLite's own locking still keeps
                # writes correct, only slower to hand over.
                pass
        self._depth += 1
        return self

    def __exit__(self, *exc: object) -> None:
        self._depth -= 1
        if self._depth == 0 and self._fd is not None:
            with contextlib.suppress(OSError):
                fcntl.flock(self._fd, fcntl.LOCK_UN)
        self._thread_lock.release()


class SqliteDatabase:
    """A SQLite file in WAL mode. Each thread gets its own connection."""

    dialect = "sqlite"

    def __init__(self, path: Path) -> None:
        self.path = path
        self._local = threading.local()
        path.parent.mkdir(parents=True, exist_ok=True)
        self.write_lock = WriteLock(path.with_name(path.name + ".write-lock"))

    def connect(self) -> sqlite3.Connection:
        """A new connection in autocommit mode; callers open transactions explicitly."""
        try:
            conn = sqlite3.connect(
                self.path, isolation_level=None, check_same_thread=False, timeout=10.0
            )
        except sqlite3.Error as exc:
            raise Unavailable(f"cannot open SQLite database {self.path}: {exc}") from exc
        for pragma in SQLITE_PRAGMAS:
            conn.execute(pragma)
        return conn

    def connection(self) -> sqlite3.Connection:
        """This thread's shared connection, for reads."""
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = self.connect()
            self._local.conn = conn
        return conn

    @property
    def sqlalchemy_url(self) -> str:
        return f"sqlite:///{self.path}"

    def ping(self) -> None:
        self.connection().execute("SELECT 1").fetchone()

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None


class PostgresDatabase:
    """A psycopg 3 connection pool on PostgreSQL."""

    dialect = "postgres"

    def __init__(self, url: str, *, min_size: int = 1, max_size: int = 16) -> None:
        from psycopg_pool import ConnectionPool

        self.url = url.replace("postgresql+psycopg://", "postgresql://")
        # Pooled connections autocommit: nearly every use is one statement (a read, an
        # upsert), and an implicit transaction would cost a BEGIN and a COMMIT round trip
        # around each. Multi-statement work says so with `conn.transaction()`; PostgreSQL's
        # READ COMMITTED gives each statement its own snapshot either way.
        self.pool: ConnectionPool[psycopg.Connection[Any]] = ConnectionPool(
            self.url,
            min_size=min_size,
            max_size=max_size,
            open=False,
            timeout=10.0,
            kwargs={"autocommit": True},
        )
        self._opened = False
        self._lock = threading.Lock()

    def _ensure_open(self) -> None:
        if not self._opened:
            with self._lock:
                if not self._opened:
                    self.pool.open(wait=False)
                    self._opened = True

    @contextmanager
    def connection(self) -> Iterator[psycopg.Connection[Any]]:
        import psycopg
        import psycopg_pool

        self._ensure_open()
        try:
            with self.pool.connection() as conn:
                yield conn
        except (psycopg.OperationalError, psycopg_pool.PoolTimeout) as exc:
            raise Unavailable(f"PostgreSQL is unreachable: {exc}", retry_after=2) from exc

    def connect(self) -> psycopg.Connection[Any]:
        """A dedicated connection outside the pool (group-commit writers, listeners)."""
        import psycopg

        try:
            return psycopg.connect(self.url, connect_timeout=5)
        except psycopg.OperationalError as exc:
            raise Unavailable(f"PostgreSQL is unreachable: {exc}", retry_after=2) from exc

    @property
    def sqlalchemy_url(self) -> str:
        return "postgresql+psycopg://" + self.url.split("://", 1)[1]

    def ping(self) -> None:
        with self.connection() as conn:
            conn.execute("SELECT 1").fetchone()

    def close(self) -> None:
        if self._opened:
            self.pool.close()
            self._opened = False


Database = SqliteDatabase | PostgresDatabase


_REVISION = re.compile(r"^revision\s*(?::[^=]*)?=\s*['\"]([^'\"]+)['\"]", re.M)
_DOWN_REVISION = re.compile(r"^down_revision\s*(?::[^=]*)?=\s*(.+)$", re.M)
_QUOTED = re.compile(r"['\"]([^'\"]+)['\"]")


def migration_heads() -> set[str]:
    """The newest revision of every module, read from the revision files without Alembic.

    Importing Alembic and SQLAlchemy costs most of a second; start-up must not pay it
    when the schema is already current, which is nearly always.
    """
    root = Path(__file__).resolve().parent.parent
    revisions: set[str] = set()
    parents: set[str] = set()
    for module in MIGRATING_MODULES:
        folder = root / module / "migrations" / "versions"
        if not folder.is_dir():
            continue
        for path in folder.glob("*.py"):
            text = path.read_text(encoding="utf-8")
            found = _REVISION.search(text)
            if found:
                revisions.add(found.group(1))
            down = _DOWN_REVISION.search(text)
            if down:
                parents.update(_QUOTED.findall(down.group(1)))
    return revisions - parents


def applied_heads(db: Database) -> set[str]:
    """Revisions recorded in `alembic_version`; empty when the schema was never migrated."""
    sql = "SELECT version_num FROM alembic_version"
    try:
        if isinstance(db, SqliteDatabase):
            return {row[0] for row in db.connection().execute(sql).fetchall()}
        with db.connection() as conn:
            return {row[0] for row in conn.execute(sql).fetchall()}
    except Exception:  # no table yet (sqlite3.OperationalError / psycopg UndefinedTable)
        return set()


def migrate(db: Database) -> None:
    """Bring the schema to the newest revision of every module (idempotent, fast when current)."""
    wanted = migration_heads()
    if not wanted or applied_heads(db) == wanted:
        return
    from paygod.kernel.migrations.runner import upgrade_to_heads

    upgrade_to_heads(db.sqlalchemy_url)
