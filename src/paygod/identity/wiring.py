"""Build the identity service from settings (called by the composition root)."""

from __future__ import annotations

from typing import Any

from paygod.identity.ratelimit import RateLimiter
from paygod.identity.service import IdentityService
from paygod.identity.settings import load_identity_settings
from paygod.identity.stores.ratelimit_memory import MemoryRateLimiter
from paygod.kernel.clock import Clock
from paygod.kernel.database import Database
from paygod.kernel.settings import RateLimitFailMode, Settings


def limiter_from_settings(settings: Settings) -> RateLimiter:
    """In-process buckets standalone; Redis buckets (shared by every process) when configured."""
    if settings.redis_url:
        from paygod.identity.stores.ratelimit_redis import RedisRateLimiter

        return RedisRateLimiter(
            settings.redis_url,
            prefix=f"paygod:{settings.tenant}:rl:",
            fail_open=settings.rate_limit_fail_mode is RateLimitFailMode.OPEN,
        )
    return MemoryRateLimiter()


def identity_from_settings(
    settings: Settings, db: Database, clock: Clock, kernel: Any = None
) -> IdentityService:
    return IdentityService(
        db,
        clock,
        settings=load_identity_settings(),
        limiter=limiter_from_settings(settings),
        ledger=lambda: getattr(kernel, "ledger", None),
    )
