"""Building the mandate service from explicit dependencies (the composition root calls
`build_mandates`; tests call it with memory stores)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from paygod.accounting import AccountingService
from paygod.kernel.clock import Clock
from paygod.kernel.database import Database
from paygod.ledger import LedgerService
from paygod.mandates.allowance import Allowance
from paygod.mandates.bridge import MandateMeasurements, PaymentAllowances
from paygod.mandates.httpsig import NonceStore
from paygod.mandates.requests import SignedRequests
from paygod.mandates.service import MandateService, PrincipalLookup
from paygod.mandates.stores.memory import MemoryKeyStore, MemoryMandateStore, MemoryNonceStore
from paygod.mandates.stores.sql import RedisNonceStore, SqlKeyStore, SqlMandateStore, SqlNonceStore

if TYPE_CHECKING:
    from paygod.identity.service import IdentityService


@dataclass(frozen=True)
class Mandates:
    service: MandateService
    allowances: PaymentAllowances
    measurements: MandateMeasurements
    signed_requests: SignedRequests


def nonce_store_for(redis_url: str | None, db: Database | None) -> NonceStore:
    """Shared by every API process: Redis when configured, else the system of record."""
    if redis_url:
        import redis

        client = redis.Redis.from_url(redis_url, socket_timeout=0.5, socket_connect_timeout=0.5)
        return RedisNonceStore(client)
    return SqlNonceStore(db) if db is not None else MemoryNonceStore()


def principal_lookup(identity: IdentityService) -> PrincipalLookup:
    """(tenant, kind) of a principal, from the identity service."""

    def lookup(principal_id: str) -> tuple[str, str] | None:
        found = identity.get_principal(principal_id)
        return (found.tenant_id, found.kind.value) if found is not None else None

    return lookup


def build_mandates(
    db: Database | None,
    clock: Clock,
    ledger: LedgerService,
    accounting: AccountingService,
    principals: PrincipalLookup,
    *,
    redis_url: str | None = None,
) -> Mandates:
    from paygod.kernel.errors import NotFound

    def available(tenant_id: str, account_id: str) -> int | None:
        try:
            return int(accounting.get_account(tenant_id, account_id).available)
        except NotFound:
            return None

    service = MandateService(
        ledger,
        clock,
        SqlMandateStore(db) if db is not None else MemoryMandateStore(),
        SqlKeyStore(db) if db is not None else MemoryKeyStore(),
        Allowance(accounting, clock),
        principals,
        available,
    )
    return Mandates(
        service=service,
        allowances=PaymentAllowances(service),
        measurements=MandateMeasurements(service),
        signed_requests=SignedRequests(service.keys, nonce_store_for(redis_url, db), clock),
    )
