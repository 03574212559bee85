"""One contract for every store of RFC 9421 request nonces: memory, SQLite, PostgreSQL,
Redis. Two store objects over one backend stand for two API processes: a nonce one of
them accepted is a replay to the other until the claim expires."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from paygod.mandates.httpsig import NonceStore
from paygod.mandates.stores.memory import MemoryNonceStore
from tests.contract.outbox_support import postgres_database, sqlite_database

NOW = 1_800_000_000


@pytest.fixture(params=["memory", "sqlite", "postgres", "redis"])
def stores(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[[], NonceStore]]:
    if request.param == "memory":
        shared = MemoryNonceStore()
        yield lambda: shared
    elif request.param == "sqlite":
        from paygod.mandates.stores.sql import SqlNonceStore

        db = sqlite_database(tmp_path)
        yield lambda: SqlNonceStore(db)
        db.close()
    elif request.param == "postgres":
        from paygod.mandates.stores.sql import SqlNonceStore

        with postgres_database(request.getfixturevalue("postgres_url")) as pg:
            yield lambda: SqlNonceStore(pg)
    else:
        import redis

        from paygod.mandates.stores.sql import RedisNonceStore

        url = request.getfixturevalue("redis_url")
        prefix = f"test:{uuid.uuid4().hex}:"
        yield lambda: RedisNonceStore(redis.Redis.from_url(url), prefix=prefix)


def test_a_nonce_is_claimed_once_by_any_process(stores: Callable[[], NonceStore]) -> None:
    first, second = stores(), stores()
    assert first.claim("t:agent", "nonce-aaaa", NOW + 300, NOW) is True
    assert first.claim("t:agent", "nonce-aaaa", NOW + 300, NOW + 1) is False
    assert second.claim("t:agent", "nonce-aaaa", NOW + 300, NOW + 2) is False


def test_nonces_are_per_scope(stores: Callable[[], NonceStore]) -> None:
    store = stores()
    assert store.claim("t:agent-1", "nonce-b", NOW + 300, NOW)
    assert store.claim("t:agent-2", "nonce-b", NOW + 300, NOW)


def test_an_expired_claim_can_be_taken_again(stores: Callable[[], NonceStore]) -> None:
    """Only memory and SQL read `now` (Redis lets its TTL lapse in real time): a claim whose
    window has passed no longer blocks; the signature itself is refused as expired."""
    store = stores()
    assert store.claim("t:a", "nonce-c", NOW + 1, NOW)
    if type(store).__name__ == "RedisNonceStore":
        return
    assert store.claim("t:a", "nonce-c", NOW + 400, NOW + 2) is True


def test_concurrent_claims_have_one_winner(stores: Callable[[], NonceStore]) -> None:
    stores_ = [stores() for _ in range(8)]
    start = threading.Barrier(len(stores_))
    won: list[bool] = []

    def claim(store: NonceStore) -> None:
        start.wait()
        won.append(store.claim("t:race", "nonce-race", NOW + 300, NOW))

    threads = [threading.Thread(target=claim, args=(s,)) for s in stores_]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(won) == [False] * 7 + [True]
