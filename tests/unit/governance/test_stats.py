"""Promotion gates and rollback: the numbers are right, and they decide as stated."""

from __future__ import annotations

import random

import pytest

from paygod.governance.model import (
    CanarySchedule,
    IllegalTransition,
    Stage,
    canary_arm,
    check_transition,
)
from paygod.governance.rollback import ArmStats, RollbackPolicy
from paygod.governance.simulation import simulate
from paygod.governance.stats import (
    Proportion,
    prob_better,
    promotion_gate,
    thompson_pick,
    two_proportion_z,
)


def test_z_test_matches_the_textbook_value() -> None:
    # 60/100 vs 50/100: pooled p = 0.55, se = sqrt(.55 * .45 * .02) = 0.070356, z = 1.4213.
    z, p = two_proportion_z(Proportion(60, 100), Proportion(50, 100))
    assert z == pytest.approx(1.42134, abs=1e-4)
    assert p == pytest.approx(0.077609, abs=1e-5)


def test_prob_better_agrees_with_monte_carlo() -> None:
    rng = random.Random(1)
    a, b = Proportion(45, 100), Proportion(38, 100)
    draws = 200_000
    wins = sum(rng.betavariate(46, 56) > rng.betavariate(39, 63) for _ in range(draws))
    assert prob_better(a, b) == pytest.approx(wins / draws, abs=0.005)
    assert prob_better(a, a) == pytest.approx(0.5, abs=1e-9)


def test_the_gate_wants_evidence_and_a_sample() -> None:
    strong = promotion_gate(Proportion(950, 1000), Proportion(900, 1000), test="z")
    assert strong.passed and strong.statistic < 0.05
    small = promotion_gate(Proportion(95, 100), Proportion(90, 100), minimum_sample=200)
    assert not small.passed and "below the minimum" in small.reason
    equal = promotion_gate(Proportion(900, 1000), Proportion(900, 1000))
    assert not equal.passed and equal.statistic == pytest.approx(0.5, abs=0.01)
    with pytest.raises(ValueError):
        promotion_gate(Proportion(1, 2), Proportion(1, 2), test="vibes")
    with pytest.raises(ValueError):
        Proportion(3, 2)


def test_thompson_sampling_favours_the_better_challenger() -> None:
    rng = random.Random(7)
    arms = {"a": Proportion(90, 100), "b": Proportion(50, 100)}
    picks = [thompson_pick(arms, rng) for _ in range(1000)]
    assert picks.count("a") > 950
    even = {"a": Proportion(0, 0), "b": Proportion(0, 0)}
    share = [thompson_pick(even, rng) for _ in range(2000)].count("a") / 2000
    assert 0.4 < share < 0.6


def test_stage_transitions() -> None:
    check_transition(Stage.DRAFT, Stage.SHADOW)
    check_transition(Stage.CANARY, Stage.RETIRED)
    for current, target in [
        (Stage.DRAFT, Stage.ACTIVE),
        (Stage.SHADOW, Stage.ACTIVE),
        (Stage.RETIRED, Stage.SHADOW),
        (Stage.ACTIVE, Stage.CANARY),
    ]:
        with pytest.raises(IllegalTransition, match=f"cannot become {target}"):
            check_transition(current, target)


def test_canary_arm_is_stable_and_monotone() -> None:
    subjects = [f"urn:paygod:agent:{i}" for i in range(20_000)]
    five = {s for s in subjects if canary_arm("t", s, "limits", 5)}
    twenty_five = {s for s in subjects if canary_arm("t", s, "limits", 25)}
    assert five <= twenty_five
    assert 0.04 < len(five) / len(subjects) < 0.06
    assert 0.23 < len(twenty_five) / len(subjects) < 0.27
    assert five == {s for s in subjects if canary_arm("t", s, "limits", 5)}
    assert not any(canary_arm("t", s, "limits", 0) for s in subjects[:100])
    assert all(canary_arm("t", s, "limits", 100) for s in subjects[:100])
    with pytest.raises(ValueError):
        canary_arm("t", "s", "p", 101)
    assert CanarySchedule((1, 10, 50), every=100).percent_after(250) == 50


def test_rollback_names_each_breach() -> None:
    policy = RollbackPolicy(min_sample=100)
    champion = ArmStats(5000, 50, 250, [2.0] * 100)
    assert policy.breach(champion, ArmStats(5000, 50, 250, [2.0] * 100)) is None
    assert policy.breach(champion, ArmStats(5000, 150, 250, [2.0] * 100)).slo == "error_rate"  # type: ignore[union-attr]
    assert policy.breach(champion, ArmStats(5000, 50, 600, [2.0] * 100)).slo == "refusal_drift"  # type: ignore[union-attr]
    assert policy.breach(champion, ArmStats(5000, 50, 20, [2.0] * 100)).slo == "refusal_drift"  # type: ignore[union-attr]
    assert policy.breach(champion, ArmStats(5000, 50, 250, [4.0] * 100)).slo == "p95_latency"  # type: ignore[union-attr]
    assert policy.breach(champion, ArmStats(50, 50, 50, [9.0] * 10)) is None  # too few to judge


def test_rollback_quality_by_simulation() -> None:
    result = simulate(200, seed=3)
    assert result.detection_rate >= 0.95
    assert result.false_rollback_rate <= 0.05
