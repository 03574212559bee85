"""Builds the compliance services (called by the composition root, paygod.bootstrap,
before payments, whose decider screens payees through it).

KYC providers come from `PAYGOD_HOME/kyc.yaml` when it exists:

    providers:                 # the first is the default
      onfido: {type: webhook, url: "https://kyc.example/api"}
      sandbox: {type: simulated, latency: 0.05, failure_rate: 0.1,
                fixtures: {"customer:7": {status: rejected}}}

Without it, one simulated provider named `simulated`. Webhook callbacks are signed with
the same secret as the payment rails' (`PAYGOD_HOME/keys/webhook-secret`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from paygod.compliance.kyc import KycService, SimulatedKycProvider, WebhookKycProvider
from paygod.compliance.ports import KycProvider, KycStore, SanctionsStore
from paygod.compliance.service import ScreeningService
from paygod.compliance.stores.memory import MemoryKycStore, MemorySanctionsStore
from paygod.kernel.clock import Clock
from paygod.kernel.database import Database
from paygod.kernel.errors import FieldError, InvalidSettings

KYC_FILE = "kyc.yaml"


@dataclass
class Compliance:
    screening: ScreeningService
    kyc: KycService


def stores_for(db: Database | None) -> tuple[SanctionsStore, KycStore]:
    if db is None:
        return MemorySanctionsStore(), MemoryKycStore()
    from paygod.compliance.stores.sql import SqlKycStore, SqlSanctionsStore

    return SqlSanctionsStore(db), SqlKycStore(db)


def load_providers(home: Path, clock: Clock, secret: bytes) -> dict[str, KycProvider]:
    path = home / KYC_FILE
    if not path.is_file():
        return {"simulated": SimulatedKycProvider(clock=clock)}
    from paygod.decisions.packs import PackInvalid, parse_yaml

    try:
        data = parse_yaml(path.read_bytes(), path).data or {}
    except PackInvalid as exc:
        raise InvalidSettings(str(exc), errors=exc.errors) from None
    specs = data.get("providers") if isinstance(data, Mapping) else None
    if not isinstance(specs, Mapping) or not specs:
        raise InvalidSettings(
            f"{path}: expected a non-empty 'providers' mapping",
            errors=[FieldError("/providers", "expected a mapping of provider names")],
        )
    providers: dict[str, KycProvider] = {}
    for name, spec in specs.items():
        if not isinstance(spec, Mapping):
            raise InvalidSettings(f"{path}: providers/{name}: expected a mapping")
        kind = spec.get("type", "simulated")
        if kind == "simulated":
            providers[str(name)] = SimulatedKycProvider(
                str(name),
                fixtures=spec.get("fixtures") or {},
                latency=float(spec.get("latency", 0)),
                failure_rate=float(spec.get("failure_rate", 0)),
                seed=int(spec.get("seed", 7)),
                clock=clock,
            )
        elif kind == "webhook":
            providers[str(name)] = WebhookKycProvider(str(name), str(spec["url"]), secret)
        else:
            raise InvalidSettings(
                f"{path}: providers/{name}/type: expected simulated or webhook",
                errors=[FieldError(f"/providers/{name}/type", "unknown provider type")],
            )
    return providers


def build_compliance(
    settings: Any, db: Database | None, clock: Clock, ledger: Any, vault: Any = None
) -> Compliance:
    from paygod.payments.wiring import replay_guard_for, webhook_secret

    sanctions, kyc_store = stores_for(db)
    secret = webhook_secret(settings.home)
    screening = ScreeningService(ledger, clock, sanctions)
    kyc = KycService(
        ledger,
        clock,
        kyc_store,
        load_providers(settings.home, clock, secret),
        subjects=sanctions,
        webhook_secret=secret,
        replay_guard=replay_guard_for(settings.redis_url, db),
        vault=vault,
    )
    return Compliance(screening, kyc)
