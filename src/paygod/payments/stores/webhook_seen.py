"""The webhook replay guard over the `payment_webhook_seen` table (SQLite or PostgreSQL).

Every API process of one deployment shares the system of record, so a signature accepted
by one process is refused by the others: with `paygod serve --workers N` and no Redis a
per-process memory guard would let a captured webhook be replayed once per process. The
primary key is the check (INSERT ... ON CONFLICT DO NOTHING: one statement, atomic across
processes); rows older than twice the tolerance window are pruned as new ones arrive,
since a message that old is refused as stale before the guard is asked.
"""

from __future__ import annotations

from paygod.kernel.database import Database, SqliteDatabase, placeholder

PRUNE_EVERY = 256  # inserts between two prunes of expired signatures


class SqlReplayGuard:
    def __init__(self, db: Database) -> None:
        self.db = db
        self.p = placeholder(db)
        self._inserts = 0

    def first_time(self, key: str, timestamp: int, now: int, tolerance: int) -> bool:
        p = self.p
        statements: list[tuple[str, tuple[object, ...]]] = [
            (
                f"INSERT INTO payment_webhook_seen (signature, signed_at) VALUES ({p}, {p}) "
                "ON CONFLICT (signature) DO NOTHING",
                (key, timestamp),
            )
        ]
        self._inserts += 1
        if self._inserts % PRUNE_EVERY == 0:
            statements.append(
                (f"DELETE FROM payment_webhook_seen WHERE signed_at < {p}", (now - 2 * tolerance,))
            )
        if isinstance(self.db, SqliteDatabase):
            with self.db.write_lock:  # a write: queue with this process's other writers
                lite = self.db.connection()
                counts = [lite.execute(sql, params).rowcount for sql, params in statements]
        else:
            with self.db.connection() as pooled:
                counts = [pooled.execute(sql, params).rowcount for sql, params in statements]
        return counts[0] == 1
