"""The engine: first matching rule wins; a policy set takes the strictest verdict.

A rule whose condition cannot be evaluated (division by zero, a regex subject too
long, an evaluation over its step or time budget) stops the pack with verdict `error`:
failing closed is the only safe reading of "we could not tell".
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from paygod.decisions.conditions import EvaluationBudgetExceeded, EvaluationError
from paygod.decisions.model import Pack, PackResult, RuleOutcome, SetResult, Verdict
from paygod.decisions.pack_measures import measure_pack

NO_MATCH_REASON = "No policy rule matched the input."
# The reason of a verdict an evaluation over its step or time budget failed closed to; the
# rule's outcome in the trace says which budget and where.
BUDGET_REASON = "evaluation_budget_exceeded"


def evaluate(
    pack: Pack,
    input_doc: Mapping[str, Any],
    measures: Mapping[str, Any] | None = None,
    *,
    trace: bool = True,
) -> PackResult:
    env: dict[str, Any] = {"input": input_doc, "measure": dict(measures or {})}
    outcomes: list[RuleOutcome] = []
    measured: tuple[dict[str, Any], ...] = ()
    if pack.measures:
        records, failed = measure_pack(pack.measures, env)
        measured = tuple(records)
        if failed is not None:
            skipped = tuple(_skipped(pack, -1)) if trace else ()
            return PackResult(
                pack.name, pack.version, pack.digest, Verdict.ERROR, None, failed, skipped, measured
            )
    for rule in pack.rules:
        condition = rule.condition
        try:
            matched = condition.test(env)
        except EvaluationError as exc:
            if trace:
                outcomes.append(
                    RuleOutcome(rule.name, rule.index, "error", _values(condition, env), str(exc))
                )
                outcomes.extend(_skipped(pack, rule.index))
            reason = (
                BUDGET_REASON
                if isinstance(exc, EvaluationBudgetExceeded)
                else f"Rule {rule.name!r} could not be evaluated: {exc}"
            )
            return PackResult(
                pack.name,
                pack.version,
                pack.digest,
                Verdict.ERROR,
                rule.name,
                reason,
                tuple(outcomes),
                measured,
            )
        if trace:
            outcomes.append(
                RuleOutcome(
                    rule.name,
                    rule.index,
                    "matched" if matched else "not_matched",
                    _values(condition, env),
                )
            )
        if matched:
            if trace:
                outcomes.extend(_skipped(pack, rule.index))
            return PackResult(
                pack.name,
                pack.version,
                pack.digest,
                rule.decision,
                rule.name,
                rule.reason,
                tuple(outcomes),
                measured,
            )
    return PackResult(
        pack.name,
        pack.version,
        pack.digest,
        Verdict.ERROR,
        None,
        NO_MATCH_REASON,
        tuple(outcomes),
        measured,
    )


def first_match(pack: Pack, env: dict[str, Any]) -> tuple[Verdict, str | None]:
    """The verdict alone, without a trace: the hot path measured by the benchmark."""
    if pack.measures:
        env = {**env, "measure": dict(env.get("measure") or {})}
        if measure_pack(pack.measures, env)[1] is not None:
            return Verdict.ERROR, None
    try:
        for check, verdict, name in pack.plan:
            if check(env):
                return verdict, name
    except EvaluationError:
        return Verdict.ERROR, None
    return Verdict.ERROR, None


def _values(condition: Any, env: dict[str, Any]) -> dict[str, Any]:
    try:
        values: dict[str, Any] = condition.values_read(env)
        return values
    except EvaluationError:  # pragma: no cover - plain path reads do not raise
        return {}


def _skipped(pack: Pack, after: int) -> list[RuleOutcome]:
    return [RuleOutcome(r.name, r.index, "skipped") for r in pack.rules[after + 1 :]]


def evaluate_set(
    packs: Sequence[Pack],
    input_doc: Mapping[str, Any],
    measures: Mapping[str, Any] | None = None,
) -> SetResult:
    """Every pack decides; the strictest verdict (deny > error > flag > allow) wins.

    On a tie the first pack in the given order decides, so the explanation is stable.
    """
    if not packs:
        raise ValueError("a policy set needs at least one pack")
    results = tuple(evaluate(pack, input_doc, measures) for pack in packs)
    deciding = results[0]
    for result in results[1:]:
        if result.verdict.severity > deciding.verdict.severity:
            deciding = result
    return SetResult(deciding.verdict, deciding, results)
