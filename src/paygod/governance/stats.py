"""The statistics behind promotion and rollback, in exact or closed form (no sampling where
a formula exists), so a sealed gate result can be recomputed by anyone.

- `two_proportion_z`: the pooled two-proportion z-test (one-sided, "challenger better").
- `prob_better`: P(p_challenger > p_champion) for Beta posteriors, by Evan Miller's exact sum
  for integer parameters.
- `thompson_pick`: allocation of shadow traffic across several challengers by Thompson
  sampling over Beta(1 + agreements, 1 + disagreements).
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Proportion:
    successes: int
    trials: int

    def __post_init__(self) -> None:
        if self.trials < 0 or not 0 <= self.successes <= self.trials:
            raise ValueError(f"need 0 <= successes <= trials, got {self.successes}/{self.trials}")

    @property
    def rate(self) -> float:
        return self.successes / self.trials if self.trials else 0.0


def _normal_sf(z: float) -> float:
    """P(Z > z) for a standard normal."""
    return 0.5 * math.erfc(z / math.sqrt(2.0))


def two_proportion_z(challenger: Proportion, champion: Proportion) -> tuple[float, float]:
    """(z, one-sided p-value) for H1: the challenger's rate exceeds the champion's."""
    n1, n2 = challenger.trials, champion.trials
    if n1 == 0 or n2 == 0:
        return 0.0, 1.0
    pooled = (challenger.successes + champion.successes) / (n1 + n2)
    variance = pooled * (1 - pooled) * (1 / n1 + 1 / n2)
    if variance == 0:
        return 0.0, 1.0 if challenger.rate <= champion.rate else 0.0
    z = (challenger.rate - champion.rate) / math.sqrt(variance)
    return z, _normal_sf(z)


def _log_beta(a: float, b: float) -> float:
    return math.lgamma(a) + math.lgamma(b) - math.lgamma(a + b)


def prob_better(challenger: Proportion, champion: Proportion) -> float:
    """P(X > Y) for X ~ Beta(1 + s1, 1 + f1), Y ~ Beta(1 + s2, 1 + f2) (uniform priors),
    summed exactly over the integer parameters of X (Evan Miller, "Formulas for Bayesian
    A/B testing")."""
    a_x, b_x = 1 + challenger.successes, 1 + challenger.trials - challenger.successes
    a_y, b_y = 1 + champion.successes, 1 + champion.trials - champion.successes
    total = 0.0
    for i in range(a_x):
        total += math.exp(
            _log_beta(a_y + i, b_x + b_y)
            - math.log(b_x + i)
            - _log_beta(1 + i, b_x)
            - _log_beta(a_y, b_y)
        )
    return min(1.0, max(0.0, total))


def thompson_pick(agreement: Mapping[str, Proportion], rng: random.Random) -> str:
    """The challenger to shadow next: the one whose Beta posterior draw is highest."""
    if not agreement:
        raise ValueError("no challengers to choose from")
    draws = {
        name: rng.betavariate(1 + p.successes, 1 + p.trials - p.successes)
        for name, p in sorted(agreement.items())
    }
    return max(draws, key=lambda name: draws[name])


@dataclass(frozen=True)
class GateResult:
    """Whether a challenger may be promoted, with every number the decision rests on."""

    passed: bool
    test: str
    statistic: float
    threshold: float
    challenger: Proportion
    champion: Proportion
    minimum_sample: int
    reason: str

    def as_dict(self) -> dict[str, object]:
        return {
            "passed": self.passed,
            "test": self.test,
            "statistic": round(self.statistic, 6),
            "threshold": self.threshold,
            "challenger": {
                "successes": self.challenger.successes,
                "trials": self.challenger.trials,
            },
            "champion": {"successes": self.champion.successes, "trials": self.champion.trials},
            "minimum_sample": self.minimum_sample,
            "reason": self.reason,
        }


def _counts(p: Proportion) -> dict[str, int]:
    return {"successes": p.successes, "trials": p.trials}


def promotion_gate(
    challenger: Proportion,
    champion: Proportion,
    *,
    test: str = "bayes",
    minimum_sample: int = 200,
    alpha: float = 0.05,
    probability: float = 0.95,
) -> GateResult:
    """Promote only on evidence: a minimum sample on both arms, then either the z-test at
    `alpha` (test="z") or P(better) >= `probability` (test="bayes")."""
    if test not in ("z", "bayes"):
        raise ValueError(f"unknown gate test {test!r} (expected z or bayes)")
    small = min(challenger.trials, champion.trials)
    if test == "z":
        _z, p_value = two_proportion_z(challenger, champion)
        statistic, threshold, ok = p_value, alpha, p_value < alpha
        verdict = f"p = {p_value:.4g} {'<' if ok else '>='} {alpha}"
    else:
        statistic = prob_better(challenger, champion)
        threshold, ok = probability, statistic >= probability
        verdict = f"P(better) = {statistic:.4f} {'>=' if ok else '<'} {probability}"
    if small < minimum_sample:
        return GateResult(
            False,
            test,
            statistic,
            threshold,
            challenger,
            champion,
            minimum_sample,
            f"sample {small} below the minimum {minimum_sample}; {verdict}",
        )
    return GateResult(ok, test, statistic, threshold, challenger, champion, minimum_sample, verdict)
