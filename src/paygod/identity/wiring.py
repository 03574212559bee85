"""Build the identity service from settings (called by the composition root)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from paygod.identity.ports import IdentityStore
from paygod.identity.ratelimit import RateLimiter
from paygod.identity.sealing import load_box
from paygod.identity.service import IdentityService
from paygod.identity.settings import load_identity_settings
from paygod.identity.stores.identity_sql import SqlIdentityStore
from paygod.identity.stores.ratelimit_memory import MemoryRateLimiter
from paygod.kernel.clock import Clock
from paygod.kernel.database import Database, write_refusal
from paygod.kernel.errors import Unavailable
from paygod.kernel.health import ReadinessCheck
from paygod.kernel.settings import RateLimitFailMode, Settings

if TYPE_CHECKING:
    from paygod.ledger import LedgerService


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
    settings: Settings,
    db: Database,
    clock: Clock,
    ledger: LedgerService | None = None,
    store: IdentityStore | None = None,
) -> IdentityService:
    """`ledger`: where consents and access audits are sealed (none: kept in the tables only).
    `store`: where identity keeps its records (default: the identity tables of `db`)."""
    identity_settings = load_identity_settings()
    kek = identity_settings.kek.get_secret_value() if identity_settings.kek else None
    service = IdentityService(
        None,
        clock,
        store=store or SqlIdentityStore(db),
        settings=identity_settings,
        limiter=limiter_from_settings(settings),
        ledger=lambda: ledger,
        box=load_box(settings.home, kek),
    )
    service.seal_secrets_at_rest()
    try:
        service.seal_unsealed()
    except Exception as exc:
        # A ledger that refuses writes at start (read-only mode) must not stop the kernel:
        # the unsealed rows stay as they were and are sealed at the next start.
        if not isinstance(exc, Unavailable) and write_refusal(exc) is None:
            raise
    return service


def identity_checks(identity: IdentityService) -> list[ReadinessCheck]:
    """A warning in /readyz for as long as dev mode is on."""
    if identity.settings.dev_mode:
        return [ReadinessCheck("dev_mode", _dev_mode_probe, required=False)]
    return []


def _dev_mode_probe() -> str:
    """A warning in /readyz for as long as dev mode is on (never pass in production)."""
    raise RuntimeError(
        "PAYGOD_DEV_MODE is on: a platform-admin dev key may exist; never run like this in"
        " production"
    )
