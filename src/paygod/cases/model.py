"""A case and the transitions it allows; its state is the fold of its ledger entries."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any, ClassVar

from paygod.kernel.errors import Conflict, KernelCode


class CaseStatus(StrEnum):
    OPEN = "open"
    ASSIGNED = "assigned"
    CLOSED = "closed"


class Disposition(StrEnum):
    FALSE_POSITIVE = "false_positive"
    CONFIRMED_FRAUD = "confirmed_fraud"
    SAR_FILED = "sar_filed"


class CaseStep(StrEnum):
    OPENED = "case.opened"
    ALERT = "case.alert_added"
    ASSIGNED = "case.assigned"
    COMMENTED = "case.commented"
    CLOSED = "case.closed"


# Which step each status allows; everything else is refused with IllegalCaseTransition.
TRANSITIONS: Mapping[CaseStatus, frozenset[CaseStep]] = {
    CaseStatus.OPEN: frozenset({CaseStep.ALERT, CaseStep.ASSIGNED, CaseStep.COMMENTED}),
    CaseStatus.ASSIGNED: frozenset(
        {CaseStep.ALERT, CaseStep.ASSIGNED, CaseStep.COMMENTED, CaseStep.CLOSED}
    ),
    CaseStatus.CLOSED: frozenset(),
}


class IllegalCaseTransition(Conflict):
    code: ClassVar[StrEnum] = KernelCode.ILLEGAL_TRANSITION
    title = "Transition not allowed"

    def __init__(self, case_id: str, status: CaseStatus, step: CaseStep) -> None:
        verb = step.value.removeprefix("case.").replace("_", " ")
        hint = " (assign it first)" if step is CaseStep.CLOSED and status is CaseStatus.OPEN else ""
        super().__init__(
            f"case {case_id} is {status.value}: it cannot be {verb}{hint}",
            extra={"status": status.value, "step": step.value},
        )


@dataclass(frozen=True)
class Case:
    case_id: str
    tenant_id: str
    subject: str
    alert_type: str
    raised_by: str | None
    opened_at: str
    status: CaseStatus = CaseStatus.OPEN
    assignee: str | None = None
    disposition: Disposition | None = None
    closed_by: str | None = None
    closed_at: str | None = None
    risk_score: float | None = None
    alerts: tuple[Mapping[str, Any], ...] = ()
    comments: tuple[Mapping[str, Any], ...] = ()
    history: tuple[Mapping[str, Any], ...] = field(default=())

    def check(self, step: CaseStep) -> None:
        if step not in TRANSITIONS[self.status]:
            raise IllegalCaseTransition(self.case_id, self.status, step)

    def apply(self, step: CaseStep, data: Mapping[str, Any], at: str, seq: int | None) -> Case:
        """The case after `step` (already checked); also the fold used to read as of a time."""
        trail = (
            *self.history,
            {"step": step.value, "at": at, "seq": seq, "actor": data.get("actor")},
        )
        if step is CaseStep.ALERT:
            score = data["alert"].get("risk_score")
            best = max(
                (s for s in (self.risk_score, score) if isinstance(s, int | float)), default=None
            )
            return replace(
                self, alerts=(*self.alerts, data["alert"]), risk_score=best, history=trail
            )
        if step is CaseStep.ASSIGNED:
            return replace(
                self, status=CaseStatus.ASSIGNED, assignee=data["assignee"], history=trail
            )
        if step is CaseStep.COMMENTED:
            comment = {"by": data.get("actor"), "at": at, "text": data["text"]}
            return replace(self, comments=(*self.comments, comment), history=trail)
        if step is CaseStep.CLOSED:
            return replace(
                self,
                status=CaseStatus.CLOSED,
                disposition=Disposition(data["disposition"]),
                closed_by=data.get("actor"),
                closed_at=at,
                history=trail,
            )
        return replace(self, history=trail)

    @classmethod
    def opened(cls, data: Mapping[str, Any], at: str, seq: int | None) -> Case:
        case = cls(
            case_id=str(data["case_id"]),
            tenant_id=str(data["tenant_id"]),
            subject=str(data["subject"]),
            alert_type=str(data["alert_type"]),
            raised_by=data.get("raised_by"),
            opened_at=at,
        )
        case = replace(
            case,
            history=(
                {
                    "step": CaseStep.OPENED.value,
                    "at": at,
                    "seq": seq,
                    "actor": data.get("raised_by"),
                },
            ),
        )
        alert = data.get("alert")
        return case.apply(CaseStep.ALERT, {"alert": alert}, at, seq) if alert else case

    def as_dict(self) -> dict[str, Any]:
        return {
            "case_id": self.case_id,
            "tenant_id": self.tenant_id,
            "subject": self.subject,
            "alert_type": self.alert_type,
            "status": self.status.value,
            "raised_by": self.raised_by,
            "opened_at": self.opened_at,
            "assignee": self.assignee,
            "disposition": self.disposition.value if self.disposition else None,
            "closed_by": self.closed_by,
            "closed_at": self.closed_at,
            "risk_score": self.risk_score,
            "alerts": [dict(a) for a in self.alerts],
            "comments": [dict(c) for c in self.comments],
            "history": [dict(h) for h in self.history],
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Case:
        return cls(
            case_id=d["case_id"],
            tenant_id=d["tenant_id"],
            subject=d["subject"],
            alert_type=d["alert_type"],
            raised_by=d.get("raised_by"),
            opened_at=d["opened_at"],
            status=CaseStatus(d["status"]),
            assignee=d.get("assignee"),
            disposition=Disposition(d["disposition"]) if d.get("disposition") else None,
            closed_by=d.get("closed_by"),
            closed_at=d.get("closed_at"),
            risk_score=d.get("risk_score"),
            alerts=tuple(d.get("alerts") or ()),
            comments=tuple(d.get("comments") or ()),
            history=tuple(d.get("history") or ()),
        )
