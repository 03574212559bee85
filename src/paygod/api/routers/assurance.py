"""Compliance reports over HTTP: `GET /v1/compliance/reports/{kind}` (sox, pci, gdpr) as
JSON, HTML or PDF, computed from the ledger against a verified signed tree head."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import Depends, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from paygod.api.deps import get_kernel
from paygod.api.routers.payments import tenant_of
from paygod.api.routing import router as strict_router
from paygod.api.schemas import assurance as bodies
from paygod.assurance.model import Period
from paygod.assurance.render import render
from paygod.bootstrap import Kernel

router = strict_router(prefix="/compliance", tags=["compliance"])

MEDIA = {"json": "application/json", "html": "text/html; charset=utf-8", "pdf": "application/pdf"}
REPORT_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "model": bodies.Report,
        "description": "The report, with the tree head it was computed against",
        "content": {
            "application/json": {},  # the schema: `model`
            "text/html": {"schema": {"type": "string"}},
            "application/pdf": {"schema": {"type": "string", "format": "binary"}},
        },
    }
}


@router.get(
    "/reports/{kind}",
    summary="A SOX, PCI DSS or GDPR report for a period, from the ledger only",
    response_class=Response,
    responses=REPORT_RESPONSES,
)
async def report(
    kind: str,
    request: Request,
    from_: Annotated[str, Query(alias="from", max_length=64)],
    to: Annotated[str, Query(max_length=64)],
    format: Literal["json", "html", "pdf"] = "json",
    tree_size: Annotated[int | None, Query(ge=1)] = None,
    kernel: Kernel = Depends(get_kernel),
) -> Response:
    period = Period.parse(from_, to)
    tenant = tenant_of(request, kernel)
    built = await run_in_threadpool(kernel.assurance.report, kind, tenant, period, tree_size)
    body = await run_in_threadpool(render, built, format)
    return Response(body, media_type=MEDIA[format])
