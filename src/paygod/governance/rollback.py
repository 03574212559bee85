"""When a canary must go back: its SLO against the champion's, over a window of decisions.

A breach is named, with its numbers, when the canary's arm is significantly worse than the
champion's on the same traffic window:
- error rate: one-sided two-proportion z-test at `alpha`;
- deny-or-flag rate drifting either way beyond `max_drift` (absolute), significant at `alpha`
  (a policy that suddenly refuses twice as much is as wrong as one that stops refusing);
- p95 latency above `latency_ratio` × the champion's.
Nothing is judged below `min_sample` decisions per arm.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from paygod.governance.stats import Proportion, two_proportion_z


@dataclass(frozen=True)
class ArmStats:
    """One arm's decisions over the window."""

    decisions: int
    errors: int
    refusals: int  # deny or flag
    latencies_ms: Sequence[float] = ()

    @property
    def p95_ms(self) -> float:
        if not self.latencies_ms:
            return 0.0
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, math.ceil(0.95 * len(ordered)) - 1)]


@dataclass(frozen=True)
class Breach:
    slo: str  # error_rate | refusal_drift | p95_latency
    canary: float
    champion: float
    detail: str

    def as_dict(self) -> dict[str, object]:
        return {
            "slo": self.slo,
            "canary": round(self.canary, 6),
            "champion": round(self.champion, 6),
            "detail": self.detail,
        }


@dataclass(frozen=True)
class RollbackPolicy:
    min_sample: int = 400
    alpha: float = 0.01
    max_drift: float = 0.02
    latency_ratio: float = 1.5

    def __post_init__(self) -> None:
        if self.min_sample < 1 or not 0 < self.alpha < 1 or self.max_drift < 0:
            raise ValueError("min_sample >= 1, 0 < alpha < 1 and max_drift >= 0 are required")
        if self.latency_ratio <= 1:
            raise ValueError("latency_ratio must be above 1")

    def breach(self, champion: ArmStats, canary: ArmStats) -> Breach | None:
        if min(champion.decisions, canary.decisions) < self.min_sample:
            return None
        errors_c = Proportion(canary.errors, canary.decisions)
        errors_b = Proportion(champion.errors, champion.decisions)
        _z, p = two_proportion_z(errors_c, errors_b)
        if p < self.alpha:
            return Breach(
                "error_rate",
                errors_c.rate,
                errors_b.rate,
                f"one-sided z-test p = {p:.3g} < {self.alpha}",
            )
        refusals_c = Proportion(canary.refusals, canary.decisions)
        refusals_b = Proportion(champion.refusals, champion.decisions)
        drift = refusals_c.rate - refusals_b.rate
        if abs(drift) > self.max_drift:
            ahead, behind = (refusals_c, refusals_b) if drift > 0 else (refusals_b, refusals_c)
            _z, p = two_proportion_z(ahead, behind)
            if 2 * p < self.alpha:  # two-sided
                return Breach(
                    "refusal_drift",
                    refusals_c.rate,
                    refusals_b.rate,
                    f"drift {drift:+.4f} beyond ±{self.max_drift}, two-sided p = {2 * p:.3g}",
                )
        if champion.latencies_ms and canary.latencies_ms:
            ours, theirs = canary.p95_ms, champion.p95_ms
            if theirs > 0 and ours > self.latency_ratio * theirs:
                return Breach(
                    "p95_latency",
                    ours,
                    theirs,
                    f"p95 {ours:.2f} ms > {self.latency_ratio} × {theirs:.2f} ms",
                )
        return None
