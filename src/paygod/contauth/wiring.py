"""Builds the continuous-authentication service and hooks it where sessions are issued,
used and decided on (called once by the composition root)."""

from __future__ import annotations

from datetime import datetime

from paygod.contauth.ports import ContauthStore
from paygod.contauth.service import ContauthService
from paygod.contauth.stores.memory import MemoryContauthStore
from paygod.contauth.stores.sql import SqlContauthStore
from paygod.decisions.service import DecisionService
from paygod.identity.model import Principal
from paygod.identity.service import IdentityService
from paygod.kernel.clock import Clock
from paygod.kernel.database import Database
from paygod.ledger import LedgerService


def build_contauth(
    db: Database,
    clock: Clock,
    ledger: LedgerService,
    identity: IdentityService,
    decisions: DecisionService,
) -> ContauthService:
    sql = ledger.store.name in ("sqlite", "postgres")
    store: ContauthStore = SqlContauthStore(db) if sql else MemoryContauthStore()
    service = ContauthService(ledger, store, clock)

    def opened(principal: Principal, session_id: str, expires_at: datetime) -> None:
        service.open_session(principal.tenant_id, principal.principal_id, session_id, expires_at)

    identity.session_opened.append(opened)
    identity.session_checks.append(service.check)
    # A pack reading `measure.session.trust` gets the subject's live session's trust.
    decisions.measurement_sources.append(service.measurement_source)
    return service
