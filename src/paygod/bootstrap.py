"""The composition root: reads settings, builds adapters, hands them to services.

This is the only module that imports every domain package, and the only place that
decides which adapter serves a port. Services are built as locals in dependency order and
returned as one frozen, fully typed `Kernel`. Tests call the same root, overriding
adapters by keyword (`build_kernel(settings, clock=ManualClock(...), ledger=memory)`),
the way a handler test hands fakes to a bootstrap function.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass
from urllib.parse import urlparse

from paygod.accounting import AccountingService
from paygod.accounting.credits import CreditsService
from paygod.accounting.proofs import BalanceProofs
from paygod.accounting.wiring import build_accounting, build_proofs
from paygod.actions import ActionService
from paygod.actions.wiring import build_actions
from paygod.aml.service import AmlService
from paygod.aml.wiring import SCAN_EVERY, build_aml
from paygod.assurance.service import AssuranceService
from paygod.assurance.wiring import wire_assurance
from paygod.banking.service import ProjectionService
from paygod.banking.wiring import build_projections
from paygod.cases.service import CaseService
from paygod.cash.service import CashService
from paygod.cash.wiring import build_cash
from paygod.compliance.payments import ScreeningDecider
from paygod.compliance.wiring import Compliance, build_compliance
from paygod.contauth.service import ContauthService
from paygod.contauth.wiring import build_contauth
from paygod.credit.lines import LineService
from paygod.credit.loans import LoanService
from paygod.credit.service import CreditService
from paygod.credit.wiring import build_credit
from paygod.decisions.service import DecisionService
from paygod.decisions.wiring import decisions_from_settings
from paygod.documents.service import DocumentService
from paygod.documents.wiring import build_documents
from paygod.executor import PanicService, Worker
from paygod.governance.service import GovernanceService
from paygod.identity.ports import IdentityStore
from paygod.identity.service import IdentityService
from paygod.identity.wiring import identity_checks, identity_from_settings
from paygod.kernel import tracing
from paygod.kernel.clock import Clock, FixedClock, SystemClock
from paygod.kernel.database import Database, PostgresDatabase, SqliteDatabase, migrate
from paygod.kernel.filemodes import permissions_probe, private_home
from paygod.kernel.health import ReadinessCheck
from paygod.kernel.periodic import Housekeeping, PeriodicTask
from paygod.kernel.settings import Settings, load_settings
from paygod.ledger import LedgerService
from paygod.ledger.wiring import ledger_from_settings
from paygod.mandates.wiring import Mandates, build_mandates, principal_lookup
from paygod.notifications.service import NotificationService
from paygod.notifications.wiring import build_notifications
from paygod.payments.service import PaymentService
from paygod.payments.wiring import build_payments
from paygod.privacy.wiring import Privacy, build_privacy
from paygod.risk.service import RiskService
from paygod.risk.wiring import build_risk, register_case_handlers


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


@dataclass(frozen=True)
class Kernel:
    """Every service of a running Paygod, wired once."""

    settings: Settings
    clock: Clock
    db: Database
    checks: list[ReadinessCheck]
    ledger: LedgerService
    decisions: DecisionService
    accounting: AccountingService
    credits: CreditsService
    balance_proofs: BalanceProofs
    cash: CashService
    privacy: Privacy
    assurance: AssuranceService
    mandates: Mandates
    aml: AmlService
    projections: ProjectionService
    identity: IdentityService
    compliance: Compliance
    panic: PanicService
    executor: Worker
    payments: PaymentService
    lending: CreditService
    loans: LoanService
    credit_lines: LineService
    actions: ActionService
    governance: GovernanceService
    risk: RiskService
    cases: CaseService
    contauth: ContauthService
    notifications: NotificationService
    documents: DocumentService
    housekeeping: Housekeeping

    @property
    def serves_from_local_state(self) -> bool:
        """Every store a request reads is in this process or on this disk (SQLite, no Redis):
        a read costs microseconds, never a network round trip, so request work may run on
        the event loop (api/hotpath.py)."""
        return serves_locally(self.settings, self.db)

    def start_background(self) -> None:
        """The outbox worker and the scheduled housekeeping, in this process."""
        self.executor.start()
        self.housekeeping.start()

    def close(self) -> None:
        self.housekeeping.stop()
        self.executor.stop()
        self.ledger.close()
        self.db.close()


def serves_locally(settings: Settings, db: Database) -> bool:
    return db.dialect == "sqlite" and not settings.redis_url


def infrastructure_checks(settings: Settings, db: Database) -> list[ReadinessCheck]:
    """The store, the home's permissions and the optional network services, for /readyz."""

    def store_probe() -> str:
        db.ping()
        return f"{db.dialect} ok"

    sqlite_path = None if settings.distributed else settings.sqlite_path
    checks = [
        ReadinessCheck("store", store_probe),
        ReadinessCheck(
            "permissions", lambda: permissions_probe(settings.home, sqlite_path), required=False
        ),
    ]
    if settings.redis_url:
        redis_url = settings.redis_url
        checks.append(ReadinessCheck("redis", lambda: tcp_probe(redis_url, 6379), required=False))
    if settings.nats_url:
        nats_url = settings.nats_url
        checks.append(ReadinessCheck("nats", lambda: tcp_probe(nats_url, 4222), required=False))
    return checks


def build_kernel(
    settings: Settings | None = None,
    *,
    migrate_schema: bool = True,
    clock: Clock | None = None,
    db: Database | None = None,
    ledger: LedgerService | None = None,
    identity_store: IdentityStore | None = None,
) -> Kernel:
    """`clock`, `db`, `ledger` and `identity_store` replace the adapters the settings would
    choose (tests pass a manual clock, a ledger or identity records on memory stores)."""
    settings = settings or load_settings()
    private_home(settings.home)
    clock = clock or clock_from_settings(settings)
    db = db or database_from_settings(settings)
    if migrate_schema:
        migrate(db)
    checks = infrastructure_checks(settings, db)

    ledger = ledger or ledger_from_settings(settings, db, clock)
    # Reads and proofs work on a store that refuses writes: warn (still ready), with the reason.
    checks.append(ReadinessCheck("store-writes", ledger.write_health, required=False))
    decisions = decisions_from_settings(settings, db, clock, ledger)
    checks.append(ReadinessCheck("packs", decisions.packs.trust, required=False))
    accounting, credits = build_accounting(db, clock, ledger)
    balance_proofs = build_proofs(accounting, ledger, settings.balance_period)
    cash = build_cash(accounting)
    projections = build_projections(db, clock, ledger, accounting)
    identity = identity_from_settings(settings, db, clock, ledger, identity_store)
    checks.extend(identity_checks(identity))
    privacy = build_privacy(settings, db, clock, ledger, identity)  # before payments: vaults payees
    compliance = build_compliance(settings, db, clock, ledger, privacy.vault)  # screens payees
    decisions.measurement_sources.append(compliance.kyc.measurement_source)
    mandates = build_mandates(  # before payments: a payment holds its mandate's allowance
        db,
        clock,
        ledger,
        accounting,
        principal_lookup(identity),
        redis_url=settings.redis_url,
    )
    decisions.request_measurement_sources.append(mandates.measurements)
    parts = build_payments(
        settings,
        db,
        clock,
        ledger,
        accounting=accounting,
        decisions=decisions,
        identity=identity,
        wrap_decider=lambda decider: ScreeningDecider(decider, compliance.screening),
        vault=privacy.vault,
        allowances=mandates.allowances,
        on_loop=serves_locally(settings, db),
    )
    lending, loans = build_credit(
        ledger,
        clock,
        accounting,
        parts.payments,
        decisions,
        worker=parts.worker,
        screening=compliance.screening,
        vault=privacy.vault,
        home=settings.home,
        breakers=parts.payments.breakers,
    )
    actions = build_actions(
        db,
        ledger,
        clock,
        accounting=accounting,
        decisions=decisions,
        worker=parts.worker,
        breakers=parts.payments.breakers,
    )
    # A pack reading `measure.consent.<purpose>` gets the consent records' answer now.
    decisions.consent = identity.consent.check
    # Challengers in shadow or canary ride on every decision (governance/service.py).
    governance = GovernanceService(ledger, decisions.packs, clock, settings.home)
    decisions.policy = governance
    tracing.configure(settings.otel_endpoint)
    risk, cases = build_risk(db, ledger, clock, settings)
    decisions.risk = risk
    assurance = wire_assurance(ledger, decisions.packs)
    aml = build_aml(db, clock, ledger)
    register_case_handlers(cases, parts.worker)
    contauth = build_contauth(db, clock, ledger, identity, decisions)
    notifications = build_notifications(settings, db, clock, ledger, parts.worker)
    documents = build_documents(settings, db, clock, ledger)
    # A legal hold on a document's owner keeps its bytes past their retention.
    documents.on_hold = lambda tenant, subject: (
        privacy.retention.register.hold(tenant, subject) is not None
    )
    housekeeping = Housekeeping(
        [
            # Two-phase holds past their timeout release their funds without anyone asking.
            PeriodicTask(
                "accounting.expire_holds", settings.hold_sweep_seconds, accounting.expire_pending
            ),
            # Late fees, days-past-due buckets and defaults follow the clock, not requests.
            PeriodicTask("credit.assess_loans", 3600.0, loans.assess_all),
            # An offer past its expiry is sealed `expired` (credit/service.py).
            PeriodicTask("credit.expire_offers", 600.0, lending.expire_offers),
            # Statements of the period just ended, sealed (PAYGOD_BALANCE_PERIOD).
            PeriodicTask("accounting.close_periods", 300.0, balance_proofs.close_due),
            # Retention policies shred vault subjects and delete old access logs and exports.
            PeriodicTask("privacy.retention", 3600.0, privacy.retention.run_all),
            # Behavioural features past their retention class are deleted (docs/contauth.md).
            PeriodicTask("contauth.purge_features", 3600.0, contauth.purge),
            # AML typologies over what was sealed since the last pass (aml/service.py).
            PeriodicTask("aml.catch_up", SCAN_EVERY, aml.run_once),
            # Documents past their retention class lose their bytes (docs/documents.md).
            PeriodicTask("documents.expire", 3600.0, documents.expire),
        ]
    )
    kernel = Kernel(
        settings=settings,
        clock=clock,
        db=db,
        checks=checks,
        ledger=ledger,
        decisions=decisions,
        accounting=accounting,
        credits=credits,
        balance_proofs=balance_proofs,
        cash=cash,
        privacy=privacy,
        assurance=assurance,
        mandates=mandates,
        aml=aml,
        projections=projections,
        identity=identity,
        compliance=compliance,
        panic=parts.panic,
        executor=parts.worker,
        payments=parts.payments,
        lending=lending,
        loans=loans,
        credit_lines=LineService(ledger, clock, lending, accounting),
        actions=actions,
        governance=governance,
        risk=risk,
        cases=cases,
        contauth=contauth,
        notifications=notifications,
        documents=documents,
        housekeeping=housekeeping,
    )
    # Plug-in action types are made with the finished kernel (docs/actions.md).
    actions.registry.load_entry_points(kernel)
    return kernel
