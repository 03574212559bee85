"""Rollback quality by simulation (issue target: >= 95 % of 2x regressions rolled back,
<= 5 % of healthy canaries). The baseline is the target itself, so the ratio says by how
much the policy clears it."""

from __future__ import annotations

from collections.abc import Iterator

from bench.harness import Figure, benchmark


@benchmark("governance_rollback")
def governance_rollback() -> Iterator[Figure]:
    from paygod.governance.simulation import simulate

    result = simulate(1000)
    extra = {"canaries": 1000, "window_per_arm": 6000}
    yield Figure(
        "governance.rollback_detection_rate", result.detection_rate, "ratio", 0.95, "target", extra
    )
    yield Figure(
        "governance.false_rollback_rate", result.false_rollback_rate, "ratio", 0.05, "target", extra
    )
