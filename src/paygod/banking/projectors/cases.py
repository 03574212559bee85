"""Cases (`cases`, `case_alerts`) from the `case.*` entries: the fold `CaseService.fold`
does, stored as the write path stores it (history steps without seqs: the live row is
written before the ledger numbers the entry)."""

from __future__ import annotations

from typing import Any

import orjson

from paygod.banking.projectors.base import Key, Projector, Row, Table
from paygod.cases.model import Case, CaseStep
from paygod.ledger import Entry

CASES = Table(
    "cases",
    ("case_id", "tenant_id", "subject", "alert_type", "status", "opened_at", "doc"),
    ("case_id",),
    frozenset({"doc"}),
)
ALERTS = Table("case_alerts", ("alert_id", "case_id"), ("alert_id",))


class CaseProjector(Projector):
    name = "cases"
    tables = (CASES, ALERTS)
    kinds = frozenset(step.value for step in CaseStep)

    def __init__(self, resolve: Any) -> None:
        super().__init__(resolve)
        self.cases: dict[Key, Case] = {}
        self.alerts: dict[Key, Row] = {}

    def apply(self, entry: Entry) -> None:
        data = entry.payload
        key = (str(data["case_id"]),)
        at = str(data.get("at") or entry.timestamp)
        if entry.kind == CaseStep.OPENED.value:
            case = Case.opened(data, at, None)
        else:
            case = self.cases[key].apply(CaseStep(entry.kind), data, at, None)
        self.cases[key] = case
        self.touch(CASES.name, key)
        alert = data.get("alert")
        if entry.kind in (CaseStep.OPENED.value, CaseStep.ALERT.value) and alert:
            alert_key = (str(alert["alert_id"]),)
            self.alerts[alert_key] = (alert_key[0], case.case_id)
            self.touch(ALERTS.name, alert_key)

    def rows(self, table: str) -> dict[Key, Row]:
        if table == ALERTS.name:
            return dict(self.alerts)
        return {
            k: (
                c.case_id,
                c.tenant_id,
                c.subject,
                c.alert_type,
                c.status.value,
                c.opened_at,
                orjson.dumps(c.as_dict()).decode(),
            )
            for k, c in self.cases.items()
        }
