"""Redis token buckets (distributed mode): one atomic Lua script per request.

The script reads Redis's own clock (TIME), so API processes with skewed clocks share
one consistent bucket. When Redis is down the limiter fails open or closed per
`PAYGOD_RATE_LIMIT_FAIL_MODE`.
"""

from __future__ import annotations

from typing import Any

import redis

from paygod.identity.ratelimit import RateDecision
from paygod.kernel.errors import Unavailable
from paygod.kernel.logging import get_logger

log = get_logger("paygod.identity.ratelimit")

TAKE = """
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local state = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(state[1]) or burst
local ts = tonumber(state[2]) or now
local elapsed = now - ts
if elapsed < 0 then elapsed = 0 end
tokens = math.min(burst, tokens + elapsed * rate)
local allowed = 0
local retry = 0
if tokens >= cost then
  tokens = tokens - cost
  allowed = 1
else
  retry = (cost - tokens) / rate
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil(burst / rate * 1000) + 1000)
return {allowed, tostring(tokens), tostring(retry)}
"""


class RedisRateLimiter:
    def __init__(
        self, url: str, *, prefix: str = "paygod:rl:", fail_open: bool = True, client: Any = None
    ) -> None:
        self.client = client or redis.Redis.from_url(
            url, socket_timeout=0.5, socket_connect_timeout=0.5
        )
        self.prefix = prefix
        self.fail_open = fail_open
        self._script = self.client.register_script(TAKE)

    def take(self, key: str, rate: float, burst: int, cost: float = 1.0) -> RateDecision:
        try:
            allowed, tokens, retry = self._script(
                keys=[self.prefix + key], args=[rate, burst, cost]
            )
        except (redis.ConnectionError, redis.TimeoutError) as exc:
            log.warning("rate_limiter_unavailable", error=str(exc), fail_open=self.fail_open)
            if self.fail_open:
                return RateDecision(True, 0.0, 0.0)
            raise Unavailable("rate limiter unavailable", retry_after=1) from None
        return RateDecision(bool(int(allowed)), float(tokens), float(retry))
