"""Compliance over HTTP: on-demand sanctions screening, list snapshots, the tenant's
threshold, KYC checks and status, and KYC providers' signed callbacks."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Depends, Request
from starlette.concurrency import run_in_threadpool

from paygod.api.deps import get_kernel
from paygod.api.receipts import sealing
from paygod.api.routers.admin import principal_id
from paygod.api.routers.payments import tenant_of
from paygod.api.routing import router as strict_router
from paygod.api.schemas import compliance as bodies
from paygod.api.schemas import success
from paygod.bootstrap import Kernel
from paygod.compliance.query import parse_query
from paygod.kernel.clock import parse_instant
from paygod.kernel.errors import FieldError, InvalidInput, NotFound
from paygod.payments.signing import SIGNATURE_HEADER

router = strict_router(tags=["compliance"])
# KYC providers' callbacks carry no API key: the HMAC signature is their credential.
webhooks = APIRouter(prefix="/v1/kyc/webhooks", tags=["compliance"])


@router.post("/screening", summary="Screen a name against every active sanctions list (sealed)")
@sealing
def screen(
    request: Request, body: Any = Body(...), kernel: Kernel = Depends(get_kernel)
) -> dict[str, Any]:
    query, subject = parse_query(body)
    return kernel.compliance.screening.screen_recorded(
        tenant_of(request, kernel), query, subject=subject, requested_by=principal_id(request)
    )


@router.get(
    "/screening/threshold",
    summary="The tenant's hit threshold",
    responses=success(bodies.Threshold),
)
def get_threshold(request: Request, kernel: Kernel = Depends(get_kernel)) -> dict[str, Any]:
    tenant = tenant_of(request, kernel)
    return {"tenant_id": tenant, "threshold": kernel.compliance.screening.threshold(tenant)}


@router.put("/screening/threshold", summary="Set the tenant's hit threshold (ledgered)")
@sealing
def put_threshold(
    request: Request, body: Any = Body(...), kernel: Kernel = Depends(get_kernel)
) -> dict[str, Any]:
    if not isinstance(body, dict) or set(body) != {"threshold"}:
        raise InvalidInput(
            'expected {"threshold": number}',
            errors=[FieldError("/threshold", "expected an object with threshold only")],
        )
    return kernel.compliance.screening.set_threshold(
        tenant_of(request, kernel), body["threshold"], actor=principal_id(request)
    )


@router.get(
    "/screening/{screening_id}",
    summary="A sealed screening, as recorded",
    responses=success(bodies.Screening),
)
def get_screening(
    screening_id: str, request: Request, kernel: Kernel = Depends(get_kernel)
) -> dict[str, Any]:
    entries = kernel.ledger.history(f"screening:{screening_id}", tenant_of(request, kernel))
    if not entries:
        raise NotFound(f"no screening {screening_id}")
    entry = entries[-1]
    return {**dict(entry.payload), "seq": entry.seq, "recorded_at": entry.timestamp}


@router.get(
    "/sanctions/snapshots",
    summary="Imported list versions, the active ones marked",
    responses=success(bodies.Snapshots),
)
def snapshots(
    request: Request, list: str | None = None, kernel: Kernel = Depends(get_kernel)
) -> dict[str, Any]:
    found = kernel.compliance.screening.snapshots(tenant_of(request, kernel), list)
    return {"snapshots": [s.as_dict() for s in found]}


@router.post("/kyc/checks", summary="Verify a subject's identity or document through a provider")
@sealing
def kyc_check(
    request: Request, body: Any = Body(...), kernel: Kernel = Depends(get_kernel)
) -> dict[str, Any]:
    return kernel.compliance.kyc.verify(
        tenant_of(request, kernel), body, actor=principal_id(request)
    )


@router.get(
    "/kyc/subjects/{subject}",
    summary="A subject's KYC status (now or ?as_of=)",
    responses=success(bodies.KycStatus),
)
def kyc_status(
    subject: str,
    request: Request,
    as_of: str | None = None,
    kernel: Kernel = Depends(get_kernel),
) -> dict[str, Any]:
    when = None
    if as_of is not None:
        try:
            when = parse_instant(as_of)
        except ValueError:
            raise InvalidInput(
                "invalid as_of",
                errors=[FieldError("#query/as_of", "expected an RFC 3339 instant")],
            ) from None
    return kernel.compliance.kyc.status(tenant_of(request, kernel), subject, as_of=when)


@router.post("/kyc/subjects/{subject}/refresh", summary="Ask the provider about a pending check")
@sealing
def kyc_refresh(
    subject: str, request: Request, kernel: Kernel = Depends(get_kernel)
) -> dict[str, Any]:
    return kernel.compliance.kyc.refresh(
        tenant_of(request, kernel), subject, actor=principal_id(request)
    )


@webhooks.post("/{provider}", summary="A KYC provider's signed result (HMAC, no API key)")
@sealing
async def kyc_webhook(
    provider: str, request: Request, kernel: Kernel = Depends(get_kernel)
) -> dict[str, Any]:
    body = await request.body()
    result: dict[str, Any] = await run_in_threadpool(
        kernel.compliance.kyc.callback, provider, request.headers.get(SIGNATURE_HEADER), body
    )
    return result
