"""Hostile conditions cost bounded time: `matches` runs on RE2 (linear in the subject),
and every evaluation has a step and time budget that fails closed.

`pytest.mark.timeout` here is a hang guard, not a speed measurement: before, these
inputs ran for minutes (`^(.*,){20}$` on 31 characters: 28 s; 34: over 60 s)."""

from __future__ import annotations

from pathlib import Path

import pytest

from paygod.decisions import conditions
from paygod.decisions.conditions import ConditionSyntaxError, compile_condition
from paygod.decisions.engine import BUDGET_REASON, evaluate, evaluate_set
from paygod.decisions.model import Verdict
from paygod.decisions.packs import compile_pack


def pack(condition: str, decision: str = "flag") -> object:
    text = (
        'api_version: "paygod/v1"\nkind: Pack\nmetadata: {name: "p", version: "1.0.0"}\n'
        "spec:\n  inputs: [{name: payment}]\n  policy:\n    rules:\n"
        f"      - {{name: hostile, condition: {condition!r}, decision: {decision}, reason: r}}\n"
        "      - {name: ok, condition: 'true', decision: allow, reason: ok}\n"
    )
    return compile_pack(text.encode(), Path("pack.yaml"))


@pytest.mark.timeout(30)
@pytest.mark.parametrize(
    ("pattern", "subject", "expected"),
    [
        (r"^(.*,){20}$", "," * 31 + "x", False),
        (r"^(.*,){20}$", "a," * 20, True),
        (r"^(.*a){20}$", "a" * 4000 + "!", False),
        (r"^(a|a)*$", "a" * 4000 + "!", False),
        (r"^(\w|\w)*$", "ab" * 2000, True),
        (r"^(a+)+$", "a" * 4000 + "!", False),
    ],
)
def test_catastrophic_patterns_match_in_linear_time(
    pattern: str, subject: str, expected: bool
) -> None:
    condition = compile_condition(f"input.s.matches('{pattern}')".replace("\\", "\\\\"))
    assert condition.test({"input": {"s": subject}, "measure": {}}) is expected


def test_constructs_a_linear_matcher_lacks_are_refused_at_load() -> None:
    for pattern, fragment in [
        (r"(a)\\1", "back-references"),
        ("(?=a)b", "lookaround"),
        ("a{5000}", "linear-time matcher"),
        # 10,000 states: refused by RE2's program size limit instead of backtracking.
        ("^(a{0,100}){0,100}$", "linear-time matcher"),
    ]:
        with pytest.raises(ConditionSyntaxError, match=fragment):
            compile_condition(f"input.s.matches('{pattern}')")


NESTED = (
    "input.payment.l.any(a => input.payment.l.any(b => input.payment.l.any(c => a + b + c == -1)))"
)


@pytest.mark.timeout(30)
def test_nested_quantifiers_over_a_large_input_fail_closed_on_the_step_budget() -> None:
    hostile = pack(NESTED)
    result = evaluate(hostile, {"payment": {"l": list(range(1000))}})  # type: ignore[arg-type]
    assert (result.verdict, result.rule, result.reason) == (Verdict.ERROR, "hostile", BUDGET_REASON)
    outcome = result.outcomes[0]
    assert outcome.status == "error" and "quantifier iterations" in (outcome.error or "")
    # The same pack on a small input is evaluated as written.
    small = evaluate(hostile, {"payment": {"l": [1, 2, 3]}})  # type: ignore[arg-type]
    assert (small.verdict, small.rule) == (Verdict.ALLOW, "ok")
    # In a policy set the budget's error outranks another pack's allow (fail closed).
    combined = evaluate_set([pack("false"), hostile], {"payment": {"l": list(range(1000))}})  # type: ignore[list-item]
    assert combined.verdict is Verdict.ERROR


@pytest.mark.timeout(30)
def test_the_time_budget_fails_closed_too(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(conditions, "MAX_EVALUATION_STEPS", 10**12)
    monkeypatch.setattr(conditions, "MAX_EVALUATION_SECONDS", 0.0)
    result = evaluate(pack(NESTED), {"payment": {"l": list(range(200))}})  # type: ignore[arg-type]
    assert (result.verdict, result.reason) == (Verdict.ERROR, BUDGET_REASON)
    assert "ms of quantifier iterations" in (result.outcomes[0].error or "")


def test_the_budget_is_per_evaluation(monkeypatch: pytest.MonkeyPatch) -> None:
    # 300 x 300 = 90k iterations: within one evaluation's step budget, and every evaluation
    # starts afresh (the counter lives in the evaluation's environment). The time budget is
    # lifted: this is about counting, on a machine that may be slow.
    monkeypatch.setattr(conditions, "MAX_EVALUATION_SECONDS", 3600.0)
    two = pack("input.payment.l.any(a => input.payment.l.any(b => a + b == -1))")
    for _ in range(3):
        result = evaluate(two, {"payment": {"l": list(range(300))}})  # type: ignore[arg-type]
        assert result.rule == "ok"
