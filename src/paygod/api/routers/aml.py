"""AML over HTTP: alerts (as of a past time), one alert, a scan over history, thresholds."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import Body, Depends, Query, Request
from pydantic import BaseModel

from paygod.api.deps import get_kernel
from paygod.api.receipts import sealing
from paygod.api.routers.admin import principal_id
from paygod.api.routers.payments import tenant_of, tenant_scope
from paygod.api.routing import router as strict_router
from paygod.bootstrap import Kernel
from paygod.kernel.clock import parse_instant
from paygod.kernel.errors import FieldError, InvalidInput

router = strict_router(prefix="/aml", tags=["aml"])


class AlertOut(BaseModel):
    alert_id: str
    alert_type: str
    typology: str
    subject: str
    tenant_id: str
    raised_at: str
    occurred_at: str
    transactions: list[dict[str, Any]]
    detail: dict[str, Any]
    correlation_id: str
    source: str
    seq: int | None = None


class AlertsOut(BaseModel):
    alerts: list[AlertOut]


class ThresholdsOut(BaseModel):
    thresholds: dict[str, Any]
    seq: int | None
    set_by: str | None
    set_at: str | None = None


def _instant(text: Any, pointer: str) -> datetime | None:
    if text is None:
        return None
    try:
        if not isinstance(text, str):
            raise ValueError(text)
        return parse_instant(text)
    except ValueError:
        raise InvalidInput(
            f"invalid {pointer[1:]}", errors=[FieldError(pointer, "expected an RFC 3339 instant")]
        ) from None


@router.get("/alerts", response_model=AlertsOut, summary="AML alerts, oldest first")
def list_alerts(
    request: Request,
    typology: Annotated[str | None, Query(max_length=40)] = None,
    as_of: Annotated[str | None, Query(max_length=64)] = None,
    kernel: Kernel = Depends(get_kernel),
) -> dict[str, Any]:
    at = _instant(as_of, "/as_of")
    found = kernel.aml.alerts(tenant_scope(request, kernel), typology, at)
    return {"alerts": [a.as_dict() for a in found]}


@router.get("/alerts/{alert_id}", response_model=AlertOut, summary="One alert and its seq")
def get_alert(
    alert_id: str, request: Request, kernel: Kernel = Depends(get_kernel)
) -> dict[str, Any]:
    return kernel.aml.alert(alert_id, tenant_scope(request, kernel))


@router.post("/scan", summary="Run the typologies over history; raise what was not raised")
@sealing
def scan(
    request: Request, body: Any = Body(default=None), kernel: Kernel = Depends(get_kernel)
) -> dict[str, Any]:
    doc = body if body is not None else {}
    if not isinstance(doc, dict) or set(doc) - {"from", "to", "dry_run"}:
        raise InvalidInput(
            "invalid scan", errors=[FieldError("", "expected an object of from, to, dry_run")]
        )
    dry_run = doc.get("dry_run", False)
    if not isinstance(dry_run, bool):
        raise InvalidInput("invalid scan", errors=[FieldError("/dry_run", "expected a boolean")])
    start = _instant(doc.get("from"), "/from")
    end = _instant(doc.get("to"), "/to")
    tenant = tenant_of(request, kernel)
    return kernel.aml.scan(tenant, start, end, record=not dry_run).as_dict()


@router.get("/thresholds", response_model=ThresholdsOut, summary="The tenant's thresholds")
def get_thresholds(
    request: Request,
    as_of: Annotated[str | None, Query(max_length=64)] = None,
    kernel: Kernel = Depends(get_kernel),
) -> dict[str, Any]:
    return kernel.aml.thresholds(tenant_of(request, kernel), _instant(as_of, "/as_of"))


@router.put("/thresholds", summary="Change thresholds (sealed)")
@sealing
def put_thresholds(
    request: Request, body: Any = Body(...), kernel: Kernel = Depends(get_kernel)
) -> dict[str, Any]:
    return kernel.aml.set_thresholds(tenant_of(request, kernel), body, principal_id(request))
