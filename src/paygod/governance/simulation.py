"""Rollback quality by simulation: how often a canary with a 2x regression is caught, and
how often a healthy one is rolled back anyway, under `RollbackPolicy`.

Each simulated canary runs `window` decisions on each arm (a 2x rise of a 1 % error rate
needs a few thousand per arm to be told from noise at alpha 0.01). The champion refuses (deny or
flag) at `refusal_rate`, errs at `error_rate`, and answers in log-normal time around
`latency_ms`. A regressed canary doubles one of the three (chosen at random); a healthy
one draws from the champion's own distributions.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from paygod.governance.rollback import ArmStats, RollbackPolicy


@dataclass(frozen=True)
class SimulationResult:
    regressed: int
    caught: int
    healthy: int
    false_rollbacks: int

    @property
    def detection_rate(self) -> float:
        return self.caught / self.regressed if self.regressed else 0.0

    @property
    def false_rollback_rate(self) -> float:
        return self.false_rollbacks / self.healthy if self.healthy else 0.0


LATENCY_SAMPLE = 500  # latencies kept per arm, as a histogram would summarise them


def _arm(rng: random.Random, n: int, refusal: float, error: float, latency: float) -> ArmStats:
    draws = [rng.random() for _ in range(n)]
    refusals = sum(d < refusal for d in draws)
    errors = sum(refusal <= d < refusal + error for d in draws)
    latencies = [rng.lognormvariate(0.0, 0.25) * latency for _ in range(LATENCY_SAMPLE)]
    return ArmStats(n, errors, refusals, latencies)


def simulate(
    canaries: int = 1000,
    *,
    window: int = 6000,
    refusal_rate: float = 0.05,
    error_rate: float = 0.01,
    latency_ms: float = 2.0,
    policy: RollbackPolicy | None = None,
    seed: int = 20261207,
) -> SimulationResult:
    policy = policy or RollbackPolicy()
    rng = random.Random(seed)
    regressed = caught = healthy = false = 0
    for i in range(canaries):
        champion = _arm(rng, window, refusal_rate, error_rate, latency_ms)
        if i % 2 == 0:
            regressed += 1
            which = rng.choice(("refusal", "error", "latency"))
            canary = _arm(
                rng,
                window,
                refusal_rate * (2 if which == "refusal" else 1),
                error_rate * (2 if which == "error" else 1),
                latency_ms * (2 if which == "latency" else 1),
            )
            caught += policy.breach(champion, canary) is not None
        else:
            healthy += 1
            canary = _arm(rng, window, refusal_rate, error_rate, latency_ms)
            false += policy.breach(champion, canary) is not None
    return SimulationResult(regressed, caught, healthy, false)
