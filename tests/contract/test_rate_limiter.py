"""One contract for every RateLimiter adapter: in-process and Redis (atomic Lua)."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator

import pytest

from paygod.identity.ratelimit import RateLimiter
from paygod.identity.stores.ratelimit_memory import MemoryRateLimiter
from paygod.kernel.errors import Unavailable


@pytest.fixture(params=["memory", "redis"])
def limiter(request: pytest.FixtureRequest) -> Iterator[RateLimiter]:
    if request.param == "memory":
        yield MemoryRateLimiter()
        return
    from paygod.identity.stores.ratelimit_redis import RedisRateLimiter

    url = request.getfixturevalue("redis_url")
    prefix = f"test:{uuid.uuid4().hex}:"  # isolation from parallel tests and other helpers
    adapter = RedisRateLimiter(url, prefix=prefix)
    yield adapter
    for key in adapter.client.scan_iter(match=prefix + "*"):
        adapter.client.delete(key)


def test_burst_then_refuse_with_retry_after(limiter: RateLimiter) -> None:
    decisions = [limiter.take("p1", rate=1.0, burst=3) for _ in range(4)]
    assert [d.allowed for d in decisions] == [True, True, True, False]
    assert decisions[2].remaining == pytest.approx(0, abs=0.5)
    assert 0.5 <= decisions[3].retry_after <= 1.0


def test_buckets_are_independent(limiter: RateLimiter) -> None:
    assert [limiter.take("a", 1.0, 1).allowed for _ in range(2)] == [True, False]
    assert limiter.take("b", 1.0, 1).allowed


def test_refills_over_time(limiter: RateLimiter) -> None:
    assert limiter.take("r", rate=2.0, burst=1).allowed
    assert not limiter.take("r", rate=2.0, burst=1).allowed
    time.sleep(0.55)  # 2/s refills one token in 500 ms
    assert limiter.take("r", rate=2.0, burst=1).allowed


def test_zero_cost_peeks_without_spending(limiter: RateLimiter) -> None:
    limiter.take("peek", 0.01, 2)
    assert limiter.take("peek", 0.01, 2, cost=0).remaining == pytest.approx(1, abs=0.01)
    assert limiter.take("peek", 0.01, 2).allowed


def test_concurrent_takes_never_exceed_the_burst(limiter: RateLimiter) -> None:
    allowed: list[bool] = []
    lock = threading.Lock()

    def worker() -> None:
        for _ in range(10):
            result = limiter.take("shared", rate=0.001, burst=25).allowed
            with lock:
                allowed.append(result)

    threads = [threading.Thread(target=worker) for _ in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(allowed) == 25


def test_redis_down_fails_open_or_closed() -> None:
    from paygod.identity.stores.ratelimit_redis import RedisRateLimiter

    dead = "redis://127.0.0.1:1/0"
    assert RedisRateLimiter(dead, fail_open=True).take("k", 1.0, 1).allowed
    with pytest.raises(Unavailable):
        RedisRateLimiter(dead, fail_open=False).take("k", 1.0, 1)
