"""Success bodies of the case routes (`api/routers/cases.py`)."""

from __future__ import annotations

from typing import Any

from paygod.api.schemas import Body


class CaseStep(Body):
    step: str
    at: str
    seq: int | None
    actor: str | None


class Case(Body):
    """An investigation case and every step it went through (docs/cases.md)."""

    case_id: str
    tenant_id: str
    subject: str
    alert_type: str
    status: str
    raised_by: str | None
    opened_at: str
    assignee: str | None
    disposition: str | None
    closed_by: str | None
    closed_at: str | None
    risk_score: float | None
    alerts: list[dict[str, Any]]
    comments: list[dict[str, Any]]
    history: list[CaseStep]


class CaseList(Body):
    cases: list[Case]
