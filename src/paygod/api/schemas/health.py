"""Success bodies of the unversioned health routes (`api/routers/health.py`)."""

from __future__ import annotations

from typing import Literal

from paygod.api.schemas import Body


class Liveness(Body):
    status: Literal["pass"]
    version: str


class Check(Body):
    name: str
    status: Literal["pass", "warn", "fail"]
    duration_ms: float
    detail: str


class Readiness(Body):
    """The health check response format (draft-inadarei-api-health-check), as
    `application/health+json`; the same body with `fail` answers 503."""

    status: Literal["pass", "warn", "fail"]
    version: str
    mode: Literal["standalone", "distributed"]
    checks: list[Check]
