"""Success bodies of the screening and KYC routes (`api/routers/compliance.py`)."""

from __future__ import annotations

from typing import Any

from paygod.api.schemas import Body
from paygod.compliance.model import Snapshot


class Threshold(Body):
    tenant_id: str
    threshold: float


class Screening(Body):
    """A sealed screening as recorded: the name screened is held as a digest only."""

    screening_id: str
    source: str
    subject: str | None
    payment_id: str | None
    query_digest: str
    decision: str
    threshold: float
    hits: list[dict[str, Any]]
    snapshots: list[str]
    matcher: str
    requested_by: str | None
    seq: int
    recorded_at: str


class Snapshots(Body):
    snapshots: list[Snapshot]


class KycStatus(Body):
    tenant_id: str
    subject: str
    level: str
    status: str
    provider: str | None
    reference: str | None
    verified_at: str | None
    expires_at: str | None
    seq: int | None
    effective_level: str
