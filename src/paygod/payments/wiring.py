"""Builds the executor and payments from their dependencies (called by the composition
root, `paygod.bootstrap`, once the ledger, accounting, decisions and identity exist).

Rails are configured by `PAYGOD_HOME/rails.yaml` when it exists:

    rails:            # overrides of the default catalog (fees, limits, cut-offs...)
      ach: {fixed_fee: 30}
    connectors:       # default: a simulated rail for every rail (sandbox)
      wire: {type: webhook, url: "https://partner.example/pay"}
      sepa_credit: {type: sepa_file, debtor_name: ACME, debtor_iban: ..., debtor_bic: ...}
      card: {type: simulated, latency: 0.05, failure_rate: 0.1, settle_after: 2}
      ach: {type: simulated, state_path: /tmp/ach.db}  # call counts survive restarts
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from paygod.decisions.packs import PackInvalid, parse_yaml
from paygod.executor.backoff import Backoff
from paygod.executor.breaker import BreakerBoard
from paygod.executor.ports import PanicSwitch
from paygod.executor.wiring import build_executor, outbox_store_for
from paygod.kernel.database import Database
from paygod.kernel.errors import FieldError, InvalidSettings
from paygod.payments.connectors.simulated import SimulatedRail
from paygod.payments.decider import RuntimeDecider, ThresholdDecider
from paygod.payments.holds import AccountingHolds, NoHolds
from paygod.payments.model import PaymentRequest
from paygod.payments.ports import (
    Allowances,
    PayeeVault,
    PaymentDecider,
    PaymentIndex,
    PersonalDataVault,
    RailConnector,
    SecondPerson,
)
from paygod.payments.rail_ranking import RailRouter
from paygod.payments.rails import RailCatalog
from paygod.payments.service import PaymentService
from paygod.payments.signing import SeenSignatures
from paygod.payments.stores.index import MemoryPaymentIndex, SqlPaymentIndex
from paygod.payments.stores.payees import MemoryPayeeVault, SqlPayeeVault

if TYPE_CHECKING:
    from paygod.accounting import AccountingService
    from paygod.decisions.service import DecisionService
    from paygod.executor import PanicService, Worker
    from paygod.identity.service import IdentityService
    from paygod.kernel.clock import Clock
    from paygod.kernel.settings import Settings
    from paygod.ledger import LedgerService

RAILS_FILE = "rails.yaml"
WEBHOOK_SECRET_FILE = "keys/webhook-secret"


def second_person_for(identity: IdentityService | None) -> SecondPerson | None:
    """Maker-checker through identity: the checker is a human the maker did not create."""
    if identity is None:
        return None
    from paygod.identity.review import require_second_person

    lookup, issuer = identity.get_principal, identity.totp.factor_issuer
    return lambda maker, checker: require_second_person(lookup, maker, checker, issuer)


def load_rails_config(home: Path) -> dict[str, Any]:
    path = home / RAILS_FILE
    if not path.is_file():
        return {}
    # The same YAML reader as pack.yaml (libyaml, YAML 1.2 scalars, duplicate keys refused):
    # PyYAML's pure-Python safe_load refused a tab between values that packs accept, read
    # an unquoted cut-off `13:00` as the YAML 1.1 integer 780, kept the last of two `ach:`
    # keys, and let a syntax error out as a traceback instead of one line.
    try:
        data = parse_yaml(path.read_bytes(), path).data or {}
    except PackInvalid as exc:
        raise InvalidSettings(str(exc), errors=exc.errors) from None
    if not isinstance(data, dict):
        raise InvalidSettings(f"{path}: expected a mapping")
    unknown = sorted(str(k) for k in data if k not in {"rails", "connectors"})
    if unknown:
        # A connector written at the top level would silently stay the default simulator.
        raise InvalidSettings(
            f"{path}: unknown key {unknown[0]!r}; expected 'rails' and/or 'connectors'",
            errors=[FieldError(f"/{unknown[0]}", "unknown key")],
        )
    return data


def webhook_secret(home: Path) -> bytes:
    """The shared secret inbound settlement webhooks are signed with (created 0600)."""
    path = home / WEBHOOK_SECRET_FILE
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_hex(32))
    return path.read_text(encoding="utf-8").strip().encode()


def build_connectors(
    catalog: RailCatalog, config: Mapping[str, Any], home: Path
) -> dict[str, RailConnector]:
    connectors: dict[str, RailConnector] = {name: SimulatedRail(name) for name in catalog.names()}
    for name, spec in (config or {}).items():
        if not isinstance(spec, Mapping) or name not in connectors:
            raise InvalidSettings(f"{RAILS_FILE}: connectors/{name}: unknown rail or not a mapping")
        kind = spec.get("type", "simulated")
        if kind == "simulated":
            connectors[name] = SimulatedRail(
                name,
                latency=float(spec.get("latency", 0)),
                failure_rate=float(spec.get("failure_rate", 0)),
                settle_after=float(spec.get("settle_after", 0)),
                seed=int(spec.get("seed", 7)),
                state_path=Path(spec["state_path"]) if spec.get("state_path") else None,
            )
        elif kind == "webhook":
            from paygod.payments.connectors.webhook import WebhookRail

            secret = str(spec.get("secret", "")).encode() or webhook_secret(home)
            connectors[name] = WebhookRail(name, str(spec["url"]), secret)
        elif kind == "sepa_file":
            from paygod.payments.connectors.sepa import SepaFileRail

            connectors[name] = SepaFileRail(
                Path(spec.get("out_dir") or home / "sepa-out"),
                debtor_name=str(spec["debtor_name"]),
                debtor_iban=str(spec["debtor_iban"]),
                debtor_bic=str(spec["debtor_bic"]),
            )
        else:
            raise InvalidSettings(
                f"{RAILS_FILE}: connectors/{name}/type: expected simulated, webhook or sepa_file",
                errors=[FieldError(f"/connectors/{name}/type", "unknown connector type")],
            )
    return connectors


def replay_guard_for(redis_url: str | None, db: Database | None = None) -> SeenSignatures | None:
    """Shared by every API process: in Redis when configured, else in the system of record
    (so `serve --workers N` on one SQLite file refuses a replay whichever process gets it);
    per process only without either (memory stores, tests)."""
    if redis_url:
        import redis

        from paygod.payments.signing import RedisReplayGuard

        client = redis.Redis.from_url(redis_url, socket_timeout=0.5, socket_connect_timeout=0.5)
        return RedisReplayGuard(client)
    if db is not None:
        from paygod.payments.stores.webhook_seen import SqlReplayGuard

        return SqlReplayGuard(db)
    return None


def payment_index_for(db: Database | None) -> PaymentIndex:
    return SqlPaymentIndex(db) if db is not None else MemoryPaymentIndex()


def payee_vault_for(db: Database | None, vault: PersonalDataVault | None = None) -> PayeeVault:
    """Payees sealed in the privacy vault when the kernel has one (erasable by subject)."""
    return SqlPayeeVault(db, vault) if db is not None else MemoryPayeeVault()


def decider_for(
    ledger: LedgerService,
    clock: Clock,
    router: RailRouter,
    decisions: DecisionService | None,
    wrap: Callable[[PaymentDecider], PaymentDecider] | None = None,
) -> PaymentDecider:
    """The decision runtime when there is one; the threshold stand-in otherwise; `wrap`
    adds what other modules check first (sanctions screening of the payee)."""
    decider = _plain_decider(ledger, clock, router, decisions)
    return wrap(decider) if wrap is not None else decider


def _plain_decider(
    ledger: LedgerService, clock: Clock, router: RailRouter, decisions: DecisionService | None
) -> PaymentDecider:
    if decisions is None:
        return ThresholdDecider(ledger, clock)

    def quote_rail(request: PaymentRequest) -> str:
        selected = router.quote(
            amount=request.amount,
            currency=request.currency,
            now=clock.now(),
            preference=request.rail_preference,
            payee=request.payee,
        ).selected
        return selected.rail if selected else request.rail_preference

    return RuntimeDecider(decisions, quote_rail=quote_rail)


@dataclass(frozen=True)
class PaymentsParts:
    """What `build_payments` makes: the panic switch, the outbox worker (not started) and
    the payment service registered with it."""

    panic: PanicService
    worker: Worker
    payments: PaymentService


def build_payments(
    settings: Settings,
    db: Database | None,
    clock: Clock,
    ledger: LedgerService,
    *,
    accounting: AccountingService | None,
    decisions: DecisionService | None,
    identity: IdentityService | None,
    wrap_decider: Callable[[PaymentDecider], PaymentDecider] | None = None,
    vault: PersonalDataVault | None = None,
    allowances: Allowances | None = None,
    on_loop: bool,
    catalog: RailCatalog | None = None,
    rails: Mapping[str, RailConnector] | None = None,
    breakers: BreakerBoard | None = None,
    panic_switch: PanicSwitch | None = None,
    backoff: Backoff | None = None,
    worker_id: str | None = None,
    secret: bytes | None = None,
) -> PaymentsParts:
    """The payments of a kernel. Without `db` the stores are in memory; `catalog`, `rails`
    (the connectors), `breakers`, `panic_switch`, `backoff`, `worker_id` and `secret` (the
    webhook secret) replace what PAYGOD_HOME and the settings would give (tests pass
    simulated rails, a memory switch and a known secret, and read nothing from the home)."""
    config = load_rails_config(settings.home) if catalog is None or rails is None else {}
    catalog = catalog or RailCatalog.from_mapping(config.get("rails") or {})
    if rails is None:
        rails = build_connectors(catalog, config.get("connectors") or {}, settings.home)
    breakers = breakers or BreakerBoard(clock)
    memory_outbox = getattr(ledger.store, "outbox", None)
    outbox = outbox_store_for(None, memory_outbox) if isinstance(memory_outbox, list) else None
    panic, worker = build_executor(
        settings,
        db,
        clock,
        ledger,
        outbox=outbox,
        switch=panic_switch,
        backoff=backoff,
        worker_id=worker_id,
    )
    router = RailRouter(catalog, breakers)
    payments = PaymentService(
        ledger,
        clock,
        router,
        rails,
        decider_for(ledger, clock, router, decisions, wrap_decider),
        # A payment under a mandate holds the mandate's allowance in the same batch.
        AccountingHolds(accounting, allowances) if accounting is not None else NoHolds(),
        payee_vault_for(db, vault),
        breakers=breakers,
        webhook_secret=secret or webhook_secret(settings.home),
        replay_guard=replay_guard_for(settings.redis_url, db),
        second_person=second_person_for(identity),
        index=payment_index_for(db),
    )
    payments.register(worker)
    # Where every store is local, a round's dispatches run side by side on one event loop
    # in the worker's thread instead of a thread each (executor/worker.py).
    worker.on_loop = on_loop
    # Events no handler here consumes (decision.finalized, audit.access, ...) need no
    # worker round trip; NATS consumers get them from the relay.
    ledger.route_outbox(worker.work_types)
    return PaymentsParts(panic, worker, payments)
