from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from paygod.identity.stores.ratelimit_memory import MemoryRateLimiter
from paygod.identity.wiring import limiter_from_settings
from paygod.kernel.settings import load_settings


@given(
    rate=st.floats(min_value=0.1, max_value=100),
    burst=st.integers(min_value=1, max_value=50),
    steps=st.lists(
        st.tuples(st.floats(min_value=0, max_value=2), st.integers(min_value=1, max_value=3)),
        max_size=60,
    ),
)
def test_never_more_than_burst_plus_refill(
    rate: float, burst: int, steps: list[tuple[float, int]]
) -> None:
    now = [0.0]
    limiter = MemoryRateLimiter(now=lambda: now[0])
    granted = 0
    for elapsed, cost in steps:
        now[0] += elapsed
        decision = limiter.take("k", rate, burst, cost)
        if decision.allowed:
            granted += cost
        else:
            assert decision.retry_after > 0
            assert decision.retry_after <= cost / rate + 1e-9
    assert granted <= burst + rate * now[0] + 1e-6


def test_adapter_follows_settings() -> None:
    assert isinstance(limiter_from_settings(load_settings(redis_url=None)), MemoryRateLimiter)
    from paygod.identity.stores.ratelimit_redis import RedisRateLimiter

    distributed = limiter_from_settings(
        load_settings(redis_url="redis://127.0.0.1:6379/0", rate_limit_fail_mode="closed")
    )
    assert isinstance(distributed, RedisRateLimiter) and distributed.fail_open is False
