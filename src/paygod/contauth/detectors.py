"""Keystroke detectors: the per-principal models and the benchmark baseline.

- `RandomForest` (genuine vs other people's typing) when enough labelled samples exist,
- `IsolationForest` (one-class: only the principal's own typing) otherwise,
- `ScaledManhattan`, Killourhy & Maxion's (DSN 2009) best simple detector on the CMU set:
  the mean absolute deviation from the principal's mean, each feature scaled by its own
  mean absolute deviation. It is the bench's baseline and the source of trust *reasons*
  (which features deviate), since a forest's vote says nothing about which key was off.

Every detector answers a *genuineness* in [0, 1] per sample (1: typed like the principal).
A one-class score is calibrated against the principal's own training samples: a sample
typed above the genuine 25th percentile counts fully, below it in proportion, so an
impostor far outside the genuine cloud scores near 0.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

Matrix = npt.NDArray[np.float64]

RANDOM_FOREST, ISOLATION_FOREST = "random_forest", "isolation_forest"
MIN_GENUINE_ONE_CLASS = 20
MIN_GENUINE_FOREST = 30
MIN_OTHERS_FOREST = 30
MIN_OTHER_SUBJECTS = 2
CALIBRATION_QUANTILE = 0.25
DEVIATION_REASON = 3.0  # scaled deviations beyond this are named as reasons
# The only types a contauth artefact may hold beyond skops' defaults.
TRUSTED_TYPES = ("sklearn.tree._tree.Tree",)


class ScaledManhattan:
    def __init__(self, genuine: Matrix) -> None:
        self.mean = genuine.mean(axis=0)
        mad = np.abs(genuine - self.mean).mean(axis=0)
        self.scale = np.where(mad > 1e-9, mad, 1e-9)

    def deviations(self, x: Matrix) -> Matrix:
        return np.asarray(np.abs(x - self.mean) / self.scale, dtype=np.float64)

    def anomaly(self, x: Matrix) -> npt.NDArray[np.float64]:
        return np.asarray(self.deviations(x).sum(axis=1), dtype=np.float64)


def _calibrate(raw: npt.NDArray[np.float64], genuine_raw: npt.NDArray[np.float64]) -> Any:
    """Genuineness from a higher-is-more-normal raw score: the genuine empirical CDF."""
    ordered = np.sort(genuine_raw)
    cdf = np.searchsorted(ordered, raw, side="right") / max(1, ordered.size)
    return np.minimum(1.0, cdf / CALIBRATION_QUANTILE)


@dataclass
class BehaviourModel:
    """What the artefact holds: the estimator, its calibration and the reasons' profile."""

    kind: str
    features: tuple[str, ...]
    estimator: Any
    genuine_raw: npt.NDArray[np.float64]
    mean: npt.NDArray[np.float64]
    scale: npt.NDArray[np.float64]
    # A one-class model of the principal's pointer-movement summaries, when enough exist.
    pointer: BehaviourModel | None = None

    def genuineness(self, x: Matrix) -> npt.NDArray[np.float64]:
        if self.kind == RANDOM_FOREST:
            return np.asarray(self.estimator.predict_proba(x)[:, 1], dtype=np.float64)
        raw = np.asarray(self.estimator.score_samples(x), dtype=np.float64)
        return np.asarray(_calibrate(raw, self.genuine_raw), dtype=np.float64)

    def deviating(self, x: Matrix, top: int = 3) -> list[list[tuple[str, float]]]:
        """Per sample, the features furthest from the principal's mean (scaled), signed."""
        scaled = (x - self.mean) / self.scale
        found = []
        for row in scaled:
            order = np.argsort(-np.abs(row))[:top]
            found.append(
                [
                    (self.features[i], round(float(row[i]), 2))
                    for i in order
                    if abs(row[i]) > DEVIATION_REASON
                ]
            )
        return found


def choose(genuine: int, others: int, other_subjects: int) -> str | None:
    if (
        genuine >= MIN_GENUINE_FOREST
        and others >= MIN_OTHERS_FOREST
        and other_subjects >= MIN_OTHER_SUBJECTS
    ):
        return RANDOM_FOREST
    if genuine >= MIN_GENUINE_ONE_CLASS:
        return ISOLATION_FOREST
    return None


def fit(
    features: Sequence[str], genuine: Matrix, others: Matrix | None, kind: str, seed: int = 7
) -> BehaviourModel:
    from sklearn.ensemble import IsolationForest, RandomForestClassifier
    from threadpoolctl import threadpool_limits

    baseline = ScaledManhattan(genuine)
    with threadpool_limits(1):
        if kind == RANDOM_FOREST:
            assert others is not None
            x = np.vstack([genuine, others])
            y = np.r_[np.ones(len(genuine)), np.zeros(len(others))].astype(np.int8)
            estimator: Any = RandomForestClassifier(
                n_estimators=100, min_samples_leaf=2, class_weight="balanced", random_state=seed
            ).fit(x, y)
            raw = np.asarray(estimator.predict_proba(genuine)[:, 1], dtype=np.float64)
        else:
            estimator = IsolationForest(n_estimators=200, random_state=seed).fit(genuine)
            raw = np.asarray(estimator.score_samples(genuine), dtype=np.float64)
    return BehaviourModel(kind, tuple(features), estimator, raw, baseline.mean, baseline.scale)


def _state(model: BehaviourModel) -> dict[str, Any]:
    return {
        "kind": model.kind,
        "features": list(model.features),
        "estimator": model.estimator,
        "genuine_raw": model.genuine_raw,
        "mean": model.mean,
        "scale": model.scale,
        "pointer": _state(model.pointer) if model.pointer is not None else None,
    }


def _model(state: dict[str, Any]) -> BehaviourModel:
    return BehaviourModel(
        str(state["kind"]),
        tuple(state["features"]),
        state["estimator"],
        np.asarray(state["genuine_raw"], dtype=np.float64),
        np.asarray(state["mean"], dtype=np.float64),
        np.asarray(state["scale"], dtype=np.float64),
        _model(state["pointer"]) if state.get("pointer") is not None else None,
    )


def dump(model: BehaviourModel) -> bytes:
    """skops, never pickle: loading an artefact runs no code."""
    import skops.io as sio

    return bytes(io.BytesIO(sio.dumps(_state(model))).getvalue())


def load(artefact: bytes) -> BehaviourModel:
    import skops.io as sio

    untrusted = set(sio.get_untrusted_types(data=artefact))
    if not untrusted <= set(TRUSTED_TYPES):
        raise ValueError(f"artefact holds untrusted types {sorted(untrusted)}")
    return _model(sio.loads(artefact, trusted=list(TRUSTED_TYPES)))


def equal_error_rate(
    genuine_anomaly: npt.NDArray[np.float64], impostor_anomaly: npt.NDArray[np.float64]
) -> float:
    """The rate where false rejects of the genuine user equal false accepts of impostors
    (higher anomaly = more impostor-like), interpolated on the ROC curve."""
    from sklearn.metrics import roc_curve

    y = np.r_[np.zeros(genuine_anomaly.size), np.ones(impostor_anomaly.size)]
    fpr, tpr, _ = roc_curve(y, np.r_[genuine_anomaly, impostor_anomaly])
    fnr = 1.0 - tpr
    i = int(np.argmin(np.abs(fpr - fnr)))
    return float((fpr[i] + fnr[i]) / 2.0)
