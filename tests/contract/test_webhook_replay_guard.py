"""One contract for every webhook replay guard: memory, SQLite, PostgreSQL, Redis.

A shared guard (SQL, Redis) must refuse a signature another process already accepted:
two guard objects over one store stand for two API processes.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from paygod.payments.signing import ReplayGuard, SeenSignatures
from tests.contract.outbox_support import postgres_database, sqlite_database

NOW = 1_800_000_000
TOLERANCE = 300

Pair = tuple[SeenSignatures, SeenSignatures]


@pytest.fixture(params=["memory", "sqlite", "postgres", "redis"])
def guards(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[tuple[str, Callable[[], SeenSignatures]]]:
    if request.param == "memory":
        shared = ReplayGuard()
        yield "memory", lambda: shared
    elif request.param == "sqlite":
        from paygod.payments.stores.webhook_seen import SqlReplayGuard

        db = sqlite_database(tmp_path)
        yield "sqlite", lambda: SqlReplayGuard(db)
        db.close()
    elif request.param == "postgres":
        from paygod.payments.stores.webhook_seen import SqlReplayGuard

        with postgres_database(request.getfixturevalue("postgres_url")) as pg:
            yield "postgres", lambda: SqlReplayGuard(pg)
    else:
        import redis

        from paygod.payments.signing import RedisReplayGuard

        url = request.getfixturevalue("redis_url")
        prefix = f"test:{uuid.uuid4().hex}:"
        yield "redis", lambda: RedisReplayGuard(redis.Redis.from_url(url), prefix=prefix)


def test_a_signature_is_accepted_once_by_any_process(
    guards: tuple[str, Callable[[], SeenSignatures]],
) -> None:
    _, make = guards
    first, second = make(), make()
    assert first.first_time("sig-a", NOW, NOW, TOLERANCE) is True
    assert first.first_time("sig-a", NOW, NOW, TOLERANCE) is False
    assert second.first_time("sig-a", NOW, NOW + 1, TOLERANCE) is False  # another process
    assert second.first_time("sig-b", NOW, NOW, TOLERANCE) is True


def test_concurrent_deliveries_of_one_signature_accept_exactly_one(
    guards: tuple[str, Callable[[], SeenSignatures]],
) -> None:
    _, make = guards
    accepted: list[bool] = []
    lock = threading.Lock()
    barrier = threading.Barrier(8)

    def deliver() -> None:
        guard = make()
        barrier.wait()
        result = guard.first_time("sig-raced", NOW, NOW, TOLERANCE)
        with lock:
            accepted.append(result)

    threads = [threading.Thread(target=deliver) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(accepted) == [False] * 7 + [True]


def test_expired_signatures_are_pruned_from_the_table(tmp_path: Path) -> None:
    # Rows older than twice the tolerance can go: such a message is refused as stale
    # before the guard is asked. The table must not grow without bound.
    from paygod.payments.stores import webhook_seen

    db = sqlite_database(tmp_path)
    try:
        guard = webhook_seen.SqlReplayGuard(db)
        for n in range(webhook_seen.PRUNE_EVERY - 1):
            assert guard.first_time(f"old-{n}", NOW - 10 * TOLERANCE, NOW, TOLERANCE)
        assert guard.first_time("fresh", NOW, NOW, TOLERANCE)  # the prune runs with it
        rows = db.connection().execute("SELECT signature FROM payment_webhook_seen").fetchall()
        assert [r[0] for r in rows] == ["fresh"]
    finally:
        db.close()
