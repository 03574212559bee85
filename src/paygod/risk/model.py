"""Risk values: registry rows, assessments, bands, and the rules score."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, ClassVar

from paygod.kernel.errors import CheckFailed
from paygod.risk.errors import RiskCode

BANDS = (("low", 0.0), ("medium", 0.3), ("high", 0.7))
UNAVAILABLE = "unavailable"
ALERT_THRESHOLD = 0.7


class ModelIntegrityError(CheckFailed):
    """A model artefact does not match the digest sealed in the ledger (or cannot load)."""

    code: ClassVar[StrEnum] = RiskCode.MODEL_INTEGRITY
    title = "Model artefact failed verification"


@dataclass(frozen=True)
class StoredModel:
    version: int
    artefact_digest: str
    artefact: bytes
    meta: Mapping[str, Any]


def band_of(score: float) -> str:
    found = BANDS[0][0]
    for name, floor in BANDS:
        if score >= floor:
            found = name
    return found


@dataclass(frozen=True)
class Rule:
    name: str
    alert_type: str
    weight: float
    holds: Callable[[Mapping[str, float]], bool]


# The rules score: each rule that holds adds its weight by noisy-or (1 - Π(1 - w)). Only
# card testing and structuring reach the high band (0.7) alone; the others need company.
RULES: tuple[Rule, ...] = (
    Rule(
        "card_testing",
        "card_testing",
        0.85,
        lambda f: f["small_count_1h"] >= 4 and f["distinct_counterparties_1h"] >= 3,
    ),
    Rule(
        "structuring",
        "structuring",
        0.8,
        lambda f: f["below_threshold"] == 1 and f["below_threshold_count_24h"] >= 2,
    ),
    Rule(
        "mule_rapid_out",
        "mule_rapid_in_out",
        0.5,
        lambda f: (
            f["distinct_counterparties_1h"] >= 2
            and f["subject_amount_1h"] >= 300_000
            and f["counterparty_age_seconds"] == 0
        ),
    ),
    Rule("impossible_travel", "impossible_travel", 0.6, lambda f: f["travel_speed_kmh"] > 900),
    Rule(
        "account_takeover",
        "account_takeover",
        0.6,
        lambda f: (
            f["subject_count_30d"] > 0
            and f["device_age_seconds"] == 0
            and f["country_mismatch"] == 1
        ),
    ),
    Rule("velocity_burst", "velocity", 0.5, lambda f: f["subject_count_10m"] >= 10),
    Rule(
        "compromised_counterparty",
        "compromised_counterparty",
        0.5,
        lambda f: f["counterparty_fraud_14d"] >= 1,
    ),
    Rule(
        "amount_spike",
        "amount_spike",
        0.35,
        lambda f: f["subject_count_30d"] >= 5 and f["amount_to_avg_30d"] >= 5,
    ),
    Rule("country_mismatch", "country_mismatch", 0.2, lambda f: f["country_mismatch"] == 1),
)


@dataclass(frozen=True)
class Assessment:
    """One decision's risk: the score, its band, why, and what produced it."""

    score: float | None
    band: str
    reasons: tuple[str, ...]
    features: Mapping[str, float]
    contributions: Mapping[str, float] = field(default_factory=dict)
    rules: tuple[str, ...] = ()
    model_version: int | None = None
    fraud_probability: float | None = None
    anomaly: float | None = None
    failure: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "score": self.score,
            "band": self.band,
            "reasons": list(self.reasons),
            "rules": list(self.rules),
            "model_version": self.model_version,
            "fraud_probability": self.fraud_probability,
            "anomaly": self.anomaly,
            "contributions": dict(self.contributions),
            "features": dict(self.features),
            "failure": self.failure,
        }
