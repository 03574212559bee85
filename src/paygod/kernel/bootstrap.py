"""The composition root: reads settings, builds adapters, hands them to services.

This is the only place that decides which adapter serves a port. Tests build the
same services with in-memory adapters through the same functions.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from urllib.parse import urlparse

from paygod.kernel.clock import Clock, FixedClock, SystemClock
from paygod.kernel.database import Database, PostgresDatabase, SqliteDatabase, migrate
from paygod.kernel.filemodes import permissions_probe, private_home
from paygod.kernel.health import ReadinessCheck
from paygod.kernel.periodic import Housekeeping, PeriodicTask
from paygod.kernel.settings import Settings, load_settings

if TYPE_CHECKING:
    from paygod.accounting import AccountingService
    from paygod.accounting.credits import CreditsService
    from paygod.actions import ActionService
    from paygod.banking.service import ProjectionService
    from paygod.cases.service import CaseService
    from paygod.compliance.wiring import Compliance
    from paygod.credit.loans import LoanService
    from paygod.credit.service import CreditService
    from paygod.decisions.service import DecisionService
    from paygod.executor import PanicService, Worker
    from paygod.governance.service import GovernanceService
    from paygod.identity.service import IdentityService
    from paygod.ledger import LedgerService
    from paygod.payments.service import PaymentService
    from paygod.risk.service import RiskService


def clock_from_settings(settings: Settings) -> Clock:
    return FixedClock(settings.clock) if settings.clock else SystemClock()


def database_from_settings(settings: Settings) -> Database:
    if settings.distributed:
        assert settings.database_url is not None
        return PostgresDatabase(settings.database_url)
    return SqliteDatabase(settings.sqlite_path)


def tcp_probe(url: str, default_port: int) -> str:
    """Reachability of a TCP service (Redis, NATS) without speaking its protocol."""
    parsed = urlparse(url)
    host, port = parsed.hostname or "127.0.0.1", parsed.port or default_port
    with socket.create_connection((host, port), timeout=1.0):
        return f"{host}:{port} reachable"


@dataclass
class Kernel:
    """Every service of a running Paygod, wired once."""

    settings: Settings
    clock: Clock
    db: Database
    checks: list[ReadinessCheck] = field(default_factory=list)
    ledger: LedgerService = field(default=None)  # type: ignore[assignment]
    decisions: DecisionService = field(default=None)  # type: ignore[assignment]
    accounting: AccountingService = field(default=None)  # type: ignore[assignment]
    credits: CreditsService = field(default=None)  # type: ignore[assignment]
    identity: IdentityService = field(default=None)  # type: ignore[assignment]
    panic: PanicService = field(default=None)  # type: ignore[assignment]
    executor: Worker = field(default=None)  # type: ignore[assignment]
    payments: PaymentService = field(default=None)  # type: ignore[assignment]
    lending: CreditService = field(default=None)  # type: ignore[assignment]
    loans: LoanService = field(default=None)  # type: ignore[assignment]
    actions: ActionService = field(default=None)  # type: ignore[assignment]
    governance: GovernanceService = field(default=None)  # type: ignore[assignment]
    compliance: Compliance = field(default=None)  # type: ignore[assignment]
    risk: RiskService = field(default=None)  # type: ignore[assignment]
    cases: CaseService = field(default=None)  # type: ignore[assignment]
    projections: ProjectionService = field(default=None)  # type: ignore[assignment]
    housekeeping: Housekeeping = field(default_factory=lambda: Housekeeping([]))

    @property
    def serves_from_local_state(self) -> bool:
        """Every store a request reads is in this process or on this disk (SQLite, no Redis):
        a read costs microseconds, never a network round trip, so request work may run on
        the event loop (api/hotpath.py)."""
        return self.db.dialect == "sqlite" and not self.settings.redis_url

    def start_background(self) -> None:
        """The outbox worker and the scheduled housekeeping, in this process."""
        self.executor.start()
        self.housekeeping.start()

    def close(self) -> None:
        self.housekeeping.stop()
        if self.executor is not None:
            self.executor.stop()
        if self.ledger is not None:
            self.ledger.close()
        self.db.close()


def build_kernel(settings: Settings | None = None, *, migrate_schema: bool = True) -> Kernel:
    settings = settings or load_settings()
    private_home(settings.home)
    clock = clock_from_settings(settings)
    db = database_from_settings(settings)
    if migrate_schema:
        migrate(db)

    def store_probe() -> str:
        db.ping()
        return f"{db.dialect} ok"

    checks = [ReadinessCheck("store", store_probe)]
    sqlite_path = None if settings.distributed else settings.sqlite_path
    checks.append(
        ReadinessCheck(
            "permissions", lambda: permissions_probe(settings.home, sqlite_path), required=False
        )
    )
    if settings.redis_url:
        redis_url = settings.redis_url
        checks.append(ReadinessCheck("redis", lambda: tcp_probe(redis_url, 6379), required=False))
    if settings.nats_url:
        nats_url = settings.nats_url
        checks.append(ReadinessCheck("nats", lambda: tcp_probe(nats_url, 4222), required=False))

    kernel = Kernel(settings=settings, clock=clock, db=db, checks=checks)
    from paygod.ledger.wiring import ledger_from_settings

    kernel.ledger = ledger_from_settings(settings, db, clock)
    # Reads and proofs work on a store that refuses writes: warn (still ready), with the reason.
    checks.append(ReadinessCheck("store-writes", kernel.ledger.write_health, required=False))
    from paygod.decisions.wiring import decisions_from_settings

    kernel.decisions = decisions_from_settings(settings, db, clock, kernel.ledger)
    kernel.checks.append(ReadinessCheck("packs", kernel.decisions.packs.trust, required=False))
    from paygod.accounting.wiring import build_accounting

    kernel.accounting, kernel.credits = build_accounting(db, clock, kernel.ledger)
    from paygod.banking.wiring import build_projections

    kernel.projections = build_projections(db, clock, kernel.ledger)
    from paygod.identity.wiring import identity_from_settings

    kernel.identity = identity_from_settings(settings, db, clock, kernel)
    from paygod.compliance.wiring import build_compliance  # before payments: screens payees

    kernel.compliance = build_compliance(settings, db, clock, kernel.ledger)
    kernel.decisions.measurement_sources.append(kernel.compliance.kyc.measurement_source)
    from paygod.payments.wiring import wire_payments  # last: needs ledger, accounting, decisions

    wire_payments(kernel)
    from paygod.credit.wiring import wire_credit

    wire_credit(kernel)
    from paygod.actions.wiring import wire_actions  # needs decisions, accounting, executor

    wire_actions(kernel)
    # A pack reading `measure.consent.<purpose>` gets the consent records' answer now.
    kernel.decisions.consent = kernel.identity.consent.check
    from paygod.governance.service import GovernanceService

    # Challengers in shadow or canary ride on every decision (governance/service.py).
    kernel.governance = GovernanceService(
        kernel.ledger, kernel.decisions.packs, clock, settings.home
    )
    kernel.decisions.policy = kernel.governance
    from paygod.kernel import tracing

    tracing.configure(settings.otel_endpoint)
    from paygod.risk.wiring import register_case_handlers, wire_risk

    wire_risk(kernel)
    register_case_handlers(kernel)
    kernel.housekeeping = Housekeeping(
        [
            # Two-phase holds past their timeout release their funds without anyone asking.
            PeriodicTask(
                "accounting.expire_holds",
                settings.hold_sweep_seconds,
                kernel.accounting.expire_pending,
            ),
            # Late fees, days-past-due buckets and defaults follow the clock, not requests.
            PeriodicTask("credit.assess_loans", 3600.0, kernel.loans.assess_all),
        ]
    )
    return kernel
