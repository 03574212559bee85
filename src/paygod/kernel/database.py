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
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from paygod.kernel.errors import Unavailable

if TYPE_CHECKING:
    import psycopg
    from psycopg_pool import ConnectionPool


def migration_folders() -> list[Path]:
    """Every package's `migrations/versions` folder, found on disk: a module owns its tables
    by keeping its Alembic revisions there (the kernel names no domain module)."""
    root = Path(__file__).resolve().parent.parent
    return sorted(
        folder
        for folder in root.glob("*/migrations/versions")
        if folder.is_dir() and folder.parent.parent.name != "kernel"
    )


SQLITE_PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    # FULL: a commit is on disk before we acknowledge it; kill -9 or power loss
    # never loses an acknowledged entry.
    "PRAGMA synchronous=FULL",
    "PRAGMA foreign_keys=ON",
    "PRAGMA busy_timeout=10000",
)


# SQLite primary result codes of a store that refuses writes (sqlite3.h): the file or its
# mount is read-only, the disk or the file size limit is reached, or writing failed.
_SQLITE_REFUSALS = {8: "read-only", 10: "disk I/O error", 13: "disk full", 14: "cannot open"}
# PostgreSQL SQLSTATEs of the same (Appendix A): 25006 read_only_sql_transaction (a standby,
# default_transaction_read_only), class 53 insufficient resources (53100 disk_full), class 57
# operator intervention (a shutdown), class 08 connection exceptions.
_POSTGRES_REFUSALS = {"25006": "read-only", "53100": "disk full"}
_POSTGRES_CLASSES = {"53": "insufficient resources", "57": "shut down", "08": "connection lost"}


def write_refusal(exc: BaseException | None) -> str | None:
    """Why the store refused a write, when `exc` (or its cause) says it refuses writes
    altogether rather than this one statement: the reason for a 503 and /readyz, else None.

    One statement of it for every adapter: a read-only PostgreSQL (a standby after a
    fail-over), a SQLite file on a read-only mount, a full disk.
    """
    seen = 0
    while exc is not None and seen < 5:
        if isinstance(exc, sqlite3.Error):
            code = getattr(exc, "sqlite_errorcode", None)
            if code is not None and code & 0xFF in _SQLITE_REFUSALS:
                return f"{_SQLITE_REFUSALS[code & 0xFF]}: {exc}"
            text = str(exc)
            if "readonly" in text or "disk is full" in text or "disk I/O" in text:
                return text
        state = getattr(exc, "sqlstate", None)
        if isinstance(state, str) and type(exc).__module__.startswith("psycopg"):
            reason = _POSTGRES_REFUSALS.get(state) or _POSTGRES_CLASSES.get(state[:2])
            if reason is not None:
                return f"{reason} ({state}): {str(exc).strip()}"
        exc = exc.__cause__ or exc.__context__
        seen += 1
    return None


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
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        # Created 0600 before SQLite opens it: SQLite gives the -wal and -shm files the
        # database file's mode, and the umask's 0644 would let every local user read the
        # store (payees' personal data, the sealed identity secrets).
        with contextlib.suppress(FileExistsError, OSError):
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
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
                try:
                    yield conn
                except psycopg.Error as exc:
                    reason = write_refusal(exc)
                    if reason is None or isinstance(exc, psycopg.OperationalError):
                        raise
                    # A session keeps the read-only default it connected with: close it,
                    # so the pool connects afresh and sees the store accept writes again.
                    conn.close()
                    raise Unavailable(
                        f"the store refuses writes (read-only mode): {reason}", retry_after=2
                    ) from exc
        except (psycopg.OperationalError, psycopg_pool.PoolTimeout) as exc:
            raise Unavailable(f"PostgreSQL is unreachable: {exc}", retry_after=2) from exc

    def connect(self) -> psycopg.Connection[Any]:
        """A dedicated connection outside the pool (group-commit writers, listeners)."""
        import psycopg

        try:
            return psycopg.connect(self.url, connect_timeout=5)
        except psycopg.OperationalError as exc:
            raise Unavailable(f"PostgreSQL is unreachable: {exc}", retry_after=2) from exc

    def renew(self) -> None:
        """Replace every pooled session: sessions opened while the database was read-only
        keep that default, so once it takes writes again they must not serve writes."""
        if self._opened:
            self.pool.drain()

    def session_read_only(self) -> bool:
        """Whether a session opened now would be read-only (a standby, a read-only default)."""
        conn = self.connect()
        try:
            row = conn.execute("SHOW transaction_read_only").fetchone()
            return row is not None and row[0] == "on"
        finally:
            conn.close()

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


def placeholder(db: Database) -> str:
    """The parameter marker of the database's driver: sqlite3's `?`, psycopg's `%s`."""
    return "?" if isinstance(db, SqliteDatabase) else "%s"


class SqlStore:
    """The ground of a SQL adapter: its database, the driver's parameter marker `p`, and
    reads outside any transaction of the caller's."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.p = placeholder(db)

    def _read(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        return read_rows(self.db, sql, params)


def where_given(conditions: Iterable[tuple[str, Any]], p: str = "?") -> tuple[str, list[Any]]:
    """` WHERE a = ? AND b <= ?` over the conditions whose value is given (not None), and
    their bound parameters in order; "" when none is. A condition is ("column op", value)."""
    given = [(test, value) for test, value in conditions if value is not None]
    clause = " AND ".join(f"{test} {p}" for test, _ in given)
    return (f" WHERE {clause}" if given else ""), [value for _, value in given]


def read_rows(db: Database, sql: str, params: Sequence[Any] = ()) -> list[Any]:
    """Every row of one read, on the thread's SQLite connection or a pooled PostgreSQL one
    (outside any transaction of the caller's)."""
    if isinstance(db, SqliteDatabase):
        return list(db.connection().execute(sql, tuple(params)).fetchall())
    with db.connection() as conn:
        return list(conn.execute(sql, tuple(params)).fetchall())


def migration_heads() -> set[str]:
    """The newest revision of every module, read from the revision files without Alembic.

    Importing Alembic and SQLAlchemy costs most of a second; start-up must not pay it
    when the schema is already current, which is nearly always.
    """
    revisions: set[str] = set()
    parents: set[str] = set()
    for folder in migration_folders():
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
