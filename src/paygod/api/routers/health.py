"""Liveness, readiness and Prometheus metrics (unversioned, for orchestrators)."""

from __future__ import annotations

import asyncio

from fastapi import Request
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.responses import JSONResponse, Response

from paygod import __version__
from paygod.api.routing import router as strict_router
from paygod.api.schemas import health as bodies
from paygod.api.schemas import success
from paygod.kernel.health import overall

router = strict_router(tags=["health"])


@router.get("/healthz", summary="Liveness: the process answers", responses=success(bodies.Liveness))
async def healthz() -> dict[str, str]:
    return {"status": "pass", "version": __version__}


class HealthResponse(JSONResponse):
    """The media type of the health check response format (draft-inadarei-api-health-check)."""

    media_type = "application/health+json"


@router.get(
    "/readyz",
    summary="Readiness: every required dependency answers",
    response_class=HealthResponse,
    responses={
        200: {"description": "Ready (pass or warn)", "model": bodies.Readiness},
        503: {"description": "Not ready: a required check failed", "model": bodies.Readiness},
    },
)
async def readyz(request: Request) -> Response:
    kernel = request.app.state.kernel
    results = await asyncio.to_thread(lambda: [check.run() for check in kernel.checks])
    status = overall(results)
    return HealthResponse(
        {
            "status": status,
            "version": __version__,
            "mode": "distributed" if kernel.settings.distributed else "standalone",
            "checks": [r.as_dict() for r in results],
        },
        status_code=503 if status == "fail" else 200,
    )


@router.get("/metrics", summary="Prometheus metrics", include_in_schema=False)
async def metrics(request: Request) -> Response:
    # The kernel gauges read the stores: off the event loop.
    body = await asyncio.to_thread(generate_latest, request.app.state.registry)
    return Response(body, media_type=CONTENT_TYPE_LATEST)
