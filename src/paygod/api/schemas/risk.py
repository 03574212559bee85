"""Success bodies of the risk routes (`api/routers/risk.py`)."""

from __future__ import annotations

from paygod.api.schemas import Body


class RiskModel(Body):
    """A registered model: its sealed registry entry (training metrics and the like are
    open-ended members), where it was sealed, and whether it is the active one."""

    version: int
    artefact_digest: str
    registered_at: str
    registered_by: str | None
    features: list[str]
    seq: int | None
    active: bool


class RiskModels(Body):
    models: list[RiskModel]


class Observation(Body):
    """What the payment tells the risk windows: references only, never personal data."""

    tenant_id: str
    subject: str
    at: float
    amount_minor: int
    payer: str | None
    counterparty: str | None
    device: str | None
    country: str | None
    ip_country: str | None
    lat: float | None
    lon: float | None
    timezone: str | None


class RiskScore(Body):
    """What a decision now would measure: nothing is sealed."""

    observation: Observation
    score: float | None
    band: str
    reasons: list[str]
    rules: list[str]
    model_version: int | None
    fraud_probability: float | None
    anomaly: float | None
    contributions: dict[str, float]
    features: dict[str, float]
    failure: str | None
