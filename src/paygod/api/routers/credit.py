"""Credit over HTTP: products, applications (decided and offered or declined), acceptance
(the borrower's e-signature), and the calculators (schedule, APR)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import Depends, Header, Query, Request, Response

from paygod.api.deps import get_kernel
from paygod.api.receipts import sealing
from paygod.api.routers.admin import principal_id
from paygod.api.routers.payments import tenant_of, tenant_scope
from paygod.api.routing import router as strict_router
from paygod.api.security import owner_filter
from paygod.credit.apr import annual_percentage_rate, parse_case
from paygod.credit.products import CATALOG
from paygod.credit.schedule import amortize, parse_terms
from paygod.kernel.bootstrap import Kernel
from paygod.kernel.clock import parse_instant
from paygod.kernel.errors import FieldError, InvalidInput

router = strict_router(prefix="/credit", tags=["credit"])


async def _json_object(request: Request) -> dict[str, Any]:
    from paygod.kernel.jsonio import parse_json

    body = parse_json(await request.body(), source="request body")
    if not isinstance(body, dict):
        raise InvalidInput(
            "the body must be a JSON object", errors=[FieldError("", "not an object")]
        )
    return body


def _at(at: str | None) -> datetime | None:
    if at is None:
        return None
    try:
        return parse_instant(at)
    except (ValueError, InvalidInput):
        raise InvalidInput(
            "at must be an RFC 3339 instant", errors=[FieldError("#query/at", "not an instant")]
        ) from None


@router.get("/products", summary="The product catalog: rate tables by grade, caps, limits")
def products() -> dict[str, Any]:
    return {"products": [p.as_dict() for p in CATALOG.values()]}


@router.post(
    "/applications",
    status_code=201,
    summary="Apply: underwritten, offered or declined",
)
@sealing
async def submit(
    request: Request,
    response: Response,
    idempotency_key: str | None = Header(default=None, max_length=200),
    kernel: Kernel = Depends(get_kernel),
) -> dict[str, Any]:
    body = await _json_object(request)
    from starlette.concurrency import run_in_threadpool

    application, created = await run_in_threadpool(
        lambda: kernel.lending.submit(
            body,
            tenant_id=tenant_of(request, kernel),
            applicant=principal_id(request),
            idempotency_key=idempotency_key,
        )
    )
    if not created:
        response.status_code = 200
    response.headers["Location"] = f"/v1/credit/applications/{application.application_id}"
    return application.as_dict()


@router.get("/applications/{application_id}", summary="An application as of now or `at`")
def get_application(
    application_id: str,
    request: Request,
    at: str | None = Query(default=None, max_length=64),
    kernel: Kernel = Depends(get_kernel),
) -> dict[str, Any]:
    application = kernel.lending.get(
        application_id, tenant_scope(request, kernel), owner_filter(request), _at(at)
    )
    return {**application.as_dict(), "history": kernel.lending.history(application_id)}


@router.post(
    "/applications/{application_id}/accept",
    summary="The applicant signs the contract: its digest is sealed",
)
@sealing
def accept(
    application_id: str, request: Request, kernel: Kernel = Depends(get_kernel)
) -> dict[str, Any]:
    kernel.lending.get(application_id, tenant_scope(request, kernel), owner_filter(request))
    application = kernel.lending.accept(
        application_id, tenant_id=tenant_scope(request, kernel), signer=principal_id(request)
    )
    return application.as_dict()


@router.post("/schedule", summary="A level-payment schedule (the CLI's `credit schedule`)")
async def schedule(request: Request) -> dict[str, Any]:
    body = await _json_object(request)
    known = {
        "principal",
        "currency",
        "annual_rate",
        "payments",
        "frequency",
        "day_count",
        "start",
        "rounding",
    }
    for key in body:
        if key not in known:
            raise InvalidInput(f"unknown field {key!r}", errors=[FieldError(f"/{key}", "unknown")])
    for key in known - {"rounding"}:
        if key not in body:
            raise InvalidInput(f"{key} is required", errors=[FieldError(f"/{key}", "required")])
    for key in ("currency", "annual_rate", "frequency", "day_count", "start", "rounding"):
        if key in body and not isinstance(body[key], str):
            raise InvalidInput(
                f"{key} must be a string", errors=[FieldError(f"/{key}", "must be a string")]
            )
    terms = parse_terms(**body)
    return amortize(terms).as_dict()


@router.post("/apr", summary="The Regulation Z Appendix J APR of a case")
async def apr(request: Request) -> dict[str, str]:
    return annual_percentage_rate(parse_case(await _json_object(request))).as_dict()
