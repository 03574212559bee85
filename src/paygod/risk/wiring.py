"""Builds the risk and case services (called by kernel.bootstrap after decisions)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from paygod.cases.service import CaseService
from paygod.cases.stores.cases import MemoryCaseStore, SqlCaseStore
from paygod.executor.worker import PermanentFailure
from paygod.kernel.clock import parse_instant
from paygod.kernel.errors import InvalidInput
from paygod.risk.service import ALERT_EVENT, RiskService
from paygod.risk.stores.models import MemoryModelStore, SqlModelStore

if TYPE_CHECKING:
    from paygod.cases.model import Case
    from paygod.executor.model import OutboxMessage
    from paygod.kernel.bootstrap import Kernel

# Events that open a case: risk's own alerts, compliance's screening hits and AML typology
# hits, same shape.
CASE_OPENING_EVENTS = (ALERT_EVENT, "compliance.screening_hit", "aml.alert")


def wire_risk(kernel: Kernel) -> None:
    sql = kernel.ledger.store.name in ("sqlite", "postgres")
    models: Any = SqlModelStore(kernel.db) if sql else MemoryModelStore()
    cases_store: Any = SqlCaseStore(kernel.db) if sql else MemoryCaseStore()
    risk = RiskService(kernel.ledger, models, kernel.clock, kernel.settings.tenant)
    cases = CaseService(kernel.ledger, cases_store, kernel.clock)

    def learn(case: Case) -> None:
        for alert in case.alerts:
            counterparty, decided = alert.get("counterparty"), alert.get("occurred_at")
            if isinstance(counterparty, str):
                at = parse_instant(decided).timestamp() if isinstance(decided, str) else None
                risk.label_fraud(case.tenant_id, counterparty, at or kernel.clock.now().timestamp())

    cases.on_confirmed.append(learn)
    kernel.decisions.risk = risk
    kernel.risk, kernel.cases = risk, cases


def register_case_handlers(kernel: Kernel) -> None:
    """An alert event in the outbox opens (or joins) a case, once per alert_id."""

    def open_case(message: OutboxMessage) -> None:
        payload = dict(message.envelope.get("payload") or {})
        if "alert_id" not in payload:
            # The payment lifecycle's own `risk.alert` (a pack flagged or denied a payment)
            # is worked through the payment's review (/approve, /reject), not a case.
            return
        payload.setdefault("occurred_at", message.envelope.get("occurred_at"))
        try:
            kernel.cases.open_from_alert(message.tenant_id, payload)
        except InvalidInput as exc:
            raise PermanentFailure(exc.one_line()) from None

    for event_type in CASE_OPENING_EVENTS:
        kernel.executor.register(event_type, open_case)
