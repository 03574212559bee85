"""`paygod test`: run a pack's tests/cases.yaml and compare with the expectations.

Matchers read a field of the decision output record (`decision`, `reason`, `rule`,
`rule_name`, `pack`, `version`, `digest`, `outcomes`, dotted paths allowed) and apply
`equals`, `contains`, `regex`, `gt` or `lt`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from paygod.decisions.conditions import _check_pattern, is_number, json_equal
from paygod.decisions.engine import evaluate
from paygod.decisions.model import Pack
from paygod.decisions.packs import TestCase, load_cases, load_pack, validate_input


@dataclass(frozen=True)
class CaseResult:
    name: str
    status: str  # pass | fail
    expected: str
    actual: str
    reason: str
    failures: tuple[str, ...] = ()
    rule: str | None = None

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "name": self.name,
            "status": self.status,
            "expected": self.expected,
            "actual": self.actual,
            "reason": self.reason,
            "rule": self.rule,
        }
        if self.failures:
            out["failures"] = list(self.failures)
        return out


@dataclass(frozen=True)
class TestReport:
    pack: Pack
    results: tuple[CaseResult, ...] = field(default=())

    @property
    def passed(self) -> int:
        return sum(1 for r in self.results if r.status == "pass")

    @property
    def failed(self) -> int:
        return len(self.results) - self.passed

    def as_dict(self) -> dict[str, Any]:
        return {
            "pack": {"name": self.pack.name, "version": self.pack.version},
            "summary": {"total": len(self.results), "passed": self.passed, "failed": self.failed},
            "results": [r.as_dict() for r in self.results],
        }


def _field(record: Mapping[str, Any], path: str) -> Any:
    value: Any = record
    for part in path.split("."):
        if isinstance(value, dict):
            value = value.get(part)
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return None
    return value


def check_matcher(record: Mapping[str, Any], matcher: Mapping[str, Any]) -> str | None:
    """None when the matcher holds, else why not."""
    name, op, expected = matcher["field"], matcher["operator"], matcher["value"]
    actual = _field(record, name)
    ok: bool
    if op == "equals":
        ok = json_equal(actual, expected)
    elif op == "contains":
        if isinstance(actual, str):
            ok = isinstance(expected, str) and expected in actual
        elif isinstance(actual, list):
            ok = any(json_equal(item, expected) for item in actual)
        else:
            ok = False
    elif op == "regex":
        try:
            ok = (
                isinstance(actual, str) and _check_pattern(str(expected)).search(actual) is not None
            )
        except ValueError as exc:
            return f"{name}: bad regex: {exc}"
    elif op in ("gt", "lt"):
        if not (is_number(actual) and is_number(expected)):
            ok = False
        else:
            ok = actual > expected if op == "gt" else actual < expected
    else:  # pragma: no cover - the cases schema allows only the five operators
        return f"{name}: unknown operator {op!r}"
    return None if ok else f"{name} {op} {expected!r} failed (actual {actual!r})"


def run_case(pack: Pack, case: TestCase) -> CaseResult:
    problems = validate_input(pack, case.input)
    if problems:
        first = problems[0]
        return CaseResult(
            case.name,
            "pass" if case.expected == "error" else "fail",
            case.expected,
            "error",
            f"invalid input: {first.pointer}: {first.message}",
            () if case.expected == "error" else ("input does not match spec.inputs",),
        )
    result = evaluate(pack, dict(case.input), case.measurements)
    record = result.as_dict()
    failures: list[str] = []
    if result.verdict.value != case.expected:
        failures.append(f"decision: expected {case.expected}, got {result.verdict.value}")
    for matcher in case.matchers:
        why = check_matcher(record, matcher)
        if why:
            failures.append(why)
    return CaseResult(
        case.name,
        "fail" if failures else "pass",
        case.expected,
        result.verdict.value,
        result.reason,
        tuple(failures),
        result.rule,
    )


def run_pack_tests(directory: Path) -> TestReport:
    pack = load_pack(directory)
    cases = load_cases(directory)
    return TestReport(pack, tuple(run_case(pack, case) for case in cases))


__all__ = ["CaseResult", "TestReport", "check_matcher", "run_case", "run_pack_tests"]
