"""Cases over HTTP: list, open, read (as of a past time), assign, comment, close."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Query, Request
from pydantic import Field

from paygod.api.deps import get_kernel
from paygod.api.models import NoNul, StrictModel
from paygod.api.receipts import sealing
from paygod.api.routers.admin import Caller, principal_id
from paygod.api.routers.payments import TenantScope, tenant_of, tenant_scope
from paygod.api.routing import router as strict_router
from paygod.api.schemas import cases as bodies
from paygod.api.schemas import success
from paygod.bootstrap import Kernel

router = strict_router(prefix="/cases", tags=["cases"])


class OpenCase(StrictModel):
    subject: Annotated[str, Field(min_length=1, max_length=256), NoNul]
    alert_type: Annotated[str, Field(min_length=1, max_length=100), NoNul]
    note: Annotated[str, Field(min_length=1, max_length=2000), NoNul]


class Assign(StrictModel):
    assignee: Annotated[str, Field(min_length=1, max_length=200), NoNul]


class Comment(StrictModel):
    text: Annotated[str, Field(min_length=1, max_length=2000), NoNul]


class Close(StrictModel):
    disposition: str = Field(description="false_positive, confirmed_fraud or sar_filed")
    note: Annotated[str, Field(min_length=1, max_length=2000), NoNul]


@router.get(
    "",
    summary="Cases of the tenant, oldest first; by status and assignee",
    responses=success(bodies.CaseList),
)
def list_cases(
    request: Request,
    status: Annotated[str | None, Query(max_length=20)] = None,
    assignee: Annotated[str | None, Query(max_length=200)] = None,
    kernel: Kernel = Depends(get_kernel),
) -> dict[str, Any]:
    found = kernel.cases.list(tenant_scope(request, kernel), status, assignee)
    return {"cases": [c.as_dict() for c in found]}


@router.post("", status_code=201, summary="Open a case by hand (its opener cannot close it)")
@sealing
def open_case(
    body: OpenCase, request: Request, kernel: Kernel = Depends(get_kernel)
) -> dict[str, Any]:
    case = kernel.cases.open_manual(
        tenant_of(request, kernel),
        subject=body.subject,
        alert_type=body.alert_type,
        note=body.note,
        actor=principal_id(request),
    )
    return case.as_dict()


@router.get(
    "/{case_id}",
    summary="A case and its steps; `as_of` rebuilds it from the ledger",
    responses=success(bodies.Case),
)
def get_case(
    case_id: str,
    request: Request,
    as_of: Annotated[str | None, Query(max_length=64)] = None,
    kernel: Kernel = Depends(get_kernel),
) -> dict[str, Any]:
    return kernel.cases.get(case_id, tenant_scope(request, kernel), as_of).as_dict()


@router.post("/{case_id}/assign", summary="Assign the case to an officer")
@sealing
def assign(
    case_id: str,
    body: Assign,
    actor: Caller,
    scope: TenantScope,
    kernel: Kernel = Depends(get_kernel),
) -> dict[str, Any]:
    case = kernel.cases.assign(case_id, assignee=body.assignee, actor=actor, tenant_id=scope)
    return case.as_dict()


@router.post("/{case_id}/comments", summary="Add a comment (no personal data)")
@sealing
def comment(
    case_id: str,
    body: Comment,
    actor: Caller,
    scope: TenantScope,
    kernel: Kernel = Depends(get_kernel),
) -> dict[str, Any]:
    case = kernel.cases.comment(case_id, text=body.text, actor=actor, tenant_id=scope)
    return case.as_dict()


@router.post("/{case_id}/close", summary="Close with a disposition (not by who raised it)")
@sealing
def close(
    case_id: str,
    body: Close,
    actor: Caller,
    scope: TenantScope,
    kernel: Kernel = Depends(get_kernel),
) -> dict[str, Any]:
    case = kernel.cases.close(
        case_id, disposition=body.disposition, note=body.note, actor=actor, tenant_id=scope
    )
    return case.as_dict()
