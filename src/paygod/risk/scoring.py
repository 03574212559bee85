"""The risk score of one decision: rules, fraud probability and anomaly, with why.

score = 1 - (1 - rules)(1 - fraud)(1 - anomaly part), each a probability-like term;
`contributions` split the score into rules, the model's bias, its features and the
anomaly term so that they add up to the score (rounded to 4 places each).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from paygod.risk.compiled import CompiledModels
from paygod.risk.model import RULES, Assessment, band_of

ANOMALY_FLOOR, ANOMALY_SPAN, ANOMALY_WEIGHT = 0.6, 0.3, 0.5
TOP_REASONS = 3


def _r(value: float) -> float:
    return round(float(value), 4)


def assess(
    features: Mapping[str, float], models: CompiledModels | None, version: int | None
) -> Assessment:
    fired = [rule for rule in RULES if rule.holds(features)]
    keep = 1.0
    for rule in fired:
        keep *= 1.0 - rule.weight
    rules_score = 1.0 - keep
    contributions: dict[str, float] = {}
    weights = sum(rule.weight for rule in fired)
    for rule in fired:
        contributions[f"rule:{rule.name}"] = _r(rules_score * rule.weight / weights)
    reasons = [rule.name for rule in fired]
    if models is None:
        score = rules_score
        return Assessment(
            _r(score), band_of(score), tuple(reasons), dict(features), contributions, tuple(reasons)
        )
    x = np.array([features[name] for name in models.features], dtype=np.float64)
    fraud, bias, logits = models.fraud_probability(x)
    anomaly = models.anomaly_score(x)
    after_model = 1.0 - (1.0 - rules_score) * (1.0 - fraud)
    anomaly_part = min(max((anomaly - ANOMALY_FLOOR) / ANOMALY_SPAN, 0.0), 1.0) * ANOMALY_WEIGHT
    score = 1.0 - (1.0 - after_model) * (1.0 - anomaly_part)
    rest = 1.0 - rules_score
    contributions["model:baseline"] = _r(bias * rest)
    total_logit = float(logits.sum())
    if abs(total_logit) > 1e-9:
        scale = (fraud - bias) * rest / total_logit
        for name, value in zip(models.features, logits, strict=True):
            share = float(value) * scale
            if abs(share) >= 0.0005:
                contributions[f"feature:{name}"] = _r(share)
    if anomaly_part > 0:
        contributions["anomaly"] = _r(anomaly_part * (1.0 - after_model))
        reasons.append("anomaly")
    top = sorted(
        (k for k, v in contributions.items() if k.startswith("feature:") and v > 0.01),
        key=lambda k: -contributions[k],
    )[:TOP_REASONS]
    reasons.extend(f"model:{k.removeprefix('feature:')}" for k in top)
    return Assessment(
        score=_r(score),
        band=band_of(score),
        reasons=tuple(reasons),
        features=dict(features),
        contributions=contributions,
        rules=tuple(rule.name for rule in fired),
        model_version=version,
        fraud_probability=_r(fraud),
        anomaly=_r(anomaly),
    )


def unavailable(features: Mapping[str, float], version: int | None, why: str) -> Assessment:
    """Fail closed: no score, band `unavailable` (packs and the kernel send it to review)."""
    return Assessment(
        score=None,
        band="unavailable",
        reasons=("model_unavailable",),
        features=dict(features),
        model_version=version,
        failure=why,
    )
