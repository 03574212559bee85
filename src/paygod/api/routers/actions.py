"""Actions over HTTP: a decision's action status and review, the webhook allowlist."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request, Response
from pydantic import Field

from paygod.api.deps import get_kernel
from paygod.api.models import NoNul, StrictModel
from paygod.api.receipts import sealing
from paygod.api.routers.admin import principal_id
from paygod.api.routers.decisions import _json, _tenant, visible_decision
from paygod.api.routing import router as strict_router
from paygod.api.schemas import actions as bodies
from paygod.api.schemas import success
from paygod.bootstrap import Kernel

router = strict_router(tags=["actions"])


class Review(StrictModel):
    note: Annotated[str, Field(max_length=1000), NoNul] | None = None


class DestinationBody(StrictModel):
    credentials = ("/secret",)  # kept with the destination; the ledger sees `public()` only
    url: Annotated[str, Field(description="http(s) URL the webhook is POSTed to"), NoNul]
    secret: Annotated[str, NoNul] | None = Field(
        default=None, description="HMAC secret (16-256 characters); generated when omitted"
    )
    allow_private: bool = Field(
        default=False, description="Allow a loopback/private address (off: refused)"
    )
    timeout_seconds: float = Field(default=5.0, description="Per-attempt timeout, at most 30")


@router.get(
    "/decisions/{decision_id}/action",
    summary="The decision's action: status, attempts, sealed results, outbox row",
    response_model=None,
    responses=success(bodies.ActionStatus),
)
def action_status(
    decision_id: str, request: Request, kernel: Kernel = Depends(get_kernel)
) -> Response:
    return _json(kernel.actions.status(visible_decision(request, kernel, decision_id)))


@router.post(
    "/decisions/{decision_id}/action/approve",
    summary="Approve the action of a flagged decision: it is performed once",
)
@sealing
def approve_action(
    decision_id: str, body: Review, request: Request, kernel: Kernel = Depends(get_kernel)
) -> dict[str, Any]:
    decision = visible_decision(request, kernel, decision_id)
    result = kernel.actions.review(
        decision, approve=True, actor=principal_id(request), note=body.note
    )
    kernel.executor.wake()
    return result


@router.post(
    "/decisions/{decision_id}/action/reject",
    summary="Reject the action of a flagged decision: it is never performed",
)
@sealing
def reject_action(
    decision_id: str, body: Review, request: Request, kernel: Kernel = Depends(get_kernel)
) -> dict[str, Any]:
    decision = visible_decision(request, kernel, decision_id)
    return kernel.actions.review(
        decision, approve=False, actor=principal_id(request), note=body.note
    )


@router.get(
    "/actions/destinations",
    summary="The tenant's webhook destination allowlist",
    responses=success(bodies.Destinations),
)
def list_destinations(request: Request, kernel: Kernel = Depends(get_kernel)) -> dict[str, Any]:
    tenant, _ = _tenant(request, kernel)
    return {"destinations": [d.public() for d in kernel.actions.list_destinations(tenant)]}


@router.get(
    "/actions/destinations/{name}",
    summary="One allowlisted destination",
    responses=success(bodies.Destination),
)
def get_destination(
    name: str, request: Request, kernel: Kernel = Depends(get_kernel)
) -> dict[str, Any]:
    tenant, _ = _tenant(request, kernel)
    return kernel.actions.destination(tenant, name).public()


@router.put(
    "/actions/destinations/{name}",
    summary="Add or replace an allowlisted webhook destination (tenant admins)",
)
@sealing
def put_destination(
    name: str, body: DestinationBody, request: Request, kernel: Kernel = Depends(get_kernel)
) -> dict[str, Any]:
    tenant, _ = _tenant(request, kernel)
    destination, generated = kernel.actions.put_destination(
        tenant,
        name,
        url=body.url,
        secret=body.secret,
        allow_private=body.allow_private,
        timeout_seconds=body.timeout_seconds,
        actor=principal_id(request),
    )
    out = destination.public()
    if generated is not None:
        out["secret"] = generated  # shown once; keep it to verify signatures
    return out


@router.delete("/actions/destinations/{name}", summary="Remove a destination (sealed)")
@sealing
def delete_destination(
    name: str, request: Request, kernel: Kernel = Depends(get_kernel)
) -> dict[str, Any]:
    tenant, _ = _tenant(request, kernel)
    kernel.actions.delete_destination(tenant, name, principal_id(request))
    return {"tenant_id": tenant, "name": name, "deleted": True}
