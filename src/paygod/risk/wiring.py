"""Builds the risk and case services (called by the composition root after decisions)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from paygod.cases.service import CaseService
from paygod.cases.stores.cases import MemoryCaseStore, SqlCaseStore
from paygod.executor.worker import PermanentFailure
from paygod.kernel.clock import parse_instant
from paygod.kernel.errors import InvalidInput
from paygod.risk.service import ALERT_EVENT, RiskService
from paygod.risk.stores.models import MemoryModelStore, SqlModelStore

if TYPE_CHECKING:
    from paygod.cases.model import Case
    from paygod.cases.ports import CaseStore
    from paygod.executor.model import OutboxMessage
    from paygod.executor.worker import Worker
    from paygod.kernel.clock import Clock
    from paygod.kernel.database import Database
    from paygod.kernel.settings import Settings
    from paygod.ledger import LedgerService
    from paygod.risk.ports import ModelStore

# Events that open a case: risk's own alerts, compliance's screening hits and AML typology
# hits, same shape.
CASE_OPENING_EVENTS = (ALERT_EVENT, "compliance.screening_hit", "aml.alert")


def build_risk(
    db: Database, ledger: LedgerService, clock: Clock, settings: Settings
) -> tuple[RiskService, CaseService]:
    """The risk service and the case service; a confirmed-fraud case teaches risk the
    counterparty it was about."""
    sql = ledger.store.name in ("sqlite", "postgres")
    models: ModelStore = SqlModelStore(db) if sql else MemoryModelStore()
    cases_store: CaseStore = SqlCaseStore(db) if sql else MemoryCaseStore()
    risk = RiskService(ledger, models, clock, settings.tenant)
    cases = CaseService(ledger, cases_store, clock)

    def learn(case: Case) -> None:
        for alert in case.alerts:
            counterparty, decided = alert.get("counterparty"), alert.get("occurred_at")
            if isinstance(counterparty, str):
                at = parse_instant(decided).timestamp() if isinstance(decided, str) else None
                risk.label_fraud(case.tenant_id, counterparty, at or clock.now().timestamp())

    cases.on_confirmed.append(learn)
    return risk, cases


def register_case_handlers(cases: CaseService, worker: Worker) -> None:
    """An alert event in the outbox opens (or joins) a case, once per alert_id."""

    def open_case(message: OutboxMessage) -> None:
        payload = dict(message.envelope.get("payload") or {})
        if "alert_id" not in payload:
            # The payment lifecycle's own `risk.alert` (a pack flagged or denied a payment)
            # is worked through the payment's review (/approve, /reject), not a case.
            return
        payload.setdefault("occurred_at", message.envelope.get("occurred_at"))
        try:
            cases.open_from_alert(message.tenant_id, payload)
        except InvalidInput as exc:
            raise PermanentFailure(exc.one_line()) from None

    for event_type in CASE_OPENING_EVENTS:
        worker.register(event_type, open_case)
