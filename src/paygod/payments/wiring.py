"""Builds the executor and payments from a kernel whose ledger (and, when present,
accounting and decisions) are already wired. Called once at the end of build_kernel.

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
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from paygod.decisions.packs import PackInvalid, parse_yaml
from paygod.executor.breaker import BreakerBoard
from paygod.executor.wiring import build_executor, outbox_store_for
from paygod.kernel.database import Database
from paygod.kernel.errors import FieldError, InvalidSettings
from paygod.payments.connectors.simulated import SimulatedRail
from paygod.payments.decider import RuntimeDecider, ThresholdDecider
from paygod.payments.holds import AccountingHolds, NoHolds
from paygod.payments.model import PaymentRequest
from paygod.payments.ports import (
    Holds,
    PayeeVault,
    PaymentDecider,
    PaymentIndex,
    RailConnector,
    SecondPerson,
)
from paygod.payments.rails import RailCatalog
from paygod.payments.router import RailRouter
from paygod.payments.service import PaymentService
from paygod.payments.signing import SeenSignatures
from paygod.payments.stores.index import MemoryPaymentIndex, SqlPaymentIndex
from paygod.payments.stores.payees import MemoryPayeeVault, SqlPayeeVault

RAILS_FILE = "rails.yaml"
WEBHOOK_SECRET_FILE = "keys/webhook-secret"


def second_person_for(kernel: Any) -> SecondPerson | None:
    """Maker-checker through identity: the checker is a human the maker did not create."""
    identity = getattr(kernel, "identity", None)
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


def payee_vault_for(db: Database | None) -> PayeeVault:
    return SqlPayeeVault(db) if db is not None else MemoryPayeeVault()


def decider_for(kernel: Any, router: RailRouter) -> PaymentDecider:
    """The decision runtime when the kernel has one; the threshold stand-in otherwise;
    wrapped by payee sanctions screening when the kernel has compliance wired."""
    decider = _plain_decider(kernel, router)
    compliance = getattr(kernel, "compliance", None)
    if compliance is None:
        return decider
    from paygod.compliance.payments import ScreeningDecider

    return ScreeningDecider(decider, compliance.screening)


def _plain_decider(kernel: Any, router: RailRouter) -> PaymentDecider:
    decisions = getattr(kernel, "decisions", None)
    if decisions is None:
        return ThresholdDecider(kernel.ledger, kernel.clock)

    def quote_rail(request: PaymentRequest) -> str:
        selected = router.quote(
            amount=request.amount,
            currency=request.currency,
            now=kernel.clock.now(),
            preference=request.rail_preference,
            payee=request.payee,
        ).selected
        return selected.rail if selected else request.rail_preference

    return RuntimeDecider(decisions, quote_rail=quote_rail)


def holds_for(kernel: Any) -> Holds:
    accounting = getattr(kernel, "accounting", None)
    mandates = getattr(kernel, "mandates", None)  # a payment under a mandate holds its allowance
    allowances = mandates.allowances if mandates is not None else None
    return AccountingHolds(accounting, allowances) if accounting is not None else NoHolds()


def wire_payments(kernel: Any) -> None:
    """Sets kernel.panic, kernel.executor (a Worker, not started) and kernel.payments."""
    settings = kernel.settings
    config = load_rails_config(settings.home)
    catalog = RailCatalog.from_mapping(config.get("rails") or {})
    breakers = BreakerBoard(kernel.clock)
    memory_outbox = getattr(getattr(kernel.ledger, "store", None), "outbox", None)
    outbox = outbox_store_for(None, memory_outbox) if isinstance(memory_outbox, list) else None
    panic, worker = build_executor(settings, kernel.db, kernel.clock, kernel.ledger, outbox=outbox)
    router = RailRouter(catalog, breakers)
    payments = PaymentService(
        kernel.ledger,
        kernel.clock,
        router,
        build_connectors(catalog, config.get("connectors") or {}, settings.home),
        decider_for(kernel, router),
        holds_for(kernel),
        payee_vault_for(kernel.db),
        breakers=breakers,
        webhook_secret=webhook_secret(settings.home),
        replay_guard=replay_guard_for(settings.redis_url, kernel.db),
        second_person=second_person_for(kernel),
        index=payment_index_for(kernel.db),
    )
    payments.register(worker)
    # Where every store is local, a round's dispatches run side by side on one event loop
    # in the worker's thread instead of a thread each (executor/worker.py).
    worker.on_loop = bool(getattr(kernel, "serves_from_local_state", False))
    # Events no handler here consumes (decision.finalized, audit.access, ...) need no
    # worker round trip; NATS consumers get them from the relay.
    kernel.ledger.route_outbox(worker.handlers)
    kernel.panic, kernel.executor, kernel.payments = panic, worker, payments
