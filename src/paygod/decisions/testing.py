"""`paygod test`: run a pack's tests/cases.yaml and compare with the expectations.

Matchers read a field of the decision output record (`decision`, `reason`, `rule`,
`rule_name`, `pack`, `version`, `digest`, `outcomes`, dotted paths allowed) and apply
`equals`, `contains`, `regex`, `gt` or `lt`.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from paygod.decisions.conditions import is_number, json_equal
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
    # The contract calls `field` a JSON path: `$.reason` and `reason` name the same field.
    path = path.removeprefix("$").removeprefix(".")
    value: Any = record
    if not path:
        return value
    for part in path.split("."):
        if isinstance(value, dict):
            value = value.get(part)
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return None
    return value


def _text(value: Any) -> str:
    """A matcher value as the text it was written as (`9.5`, `true`, `null`)."""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


def _number(value: Any) -> int | float | None:
    """A `gt`/`lt` bound: a number, or a string that spells one (`value: "0.5"`)."""
    if is_number(value):
        number: int | float = value
        return number
    if isinstance(value, str):
        try:
            parsed = float(value)
        except ValueError:
            return None
        return parsed if math.isfinite(parsed) else None
    return None


def check_matcher(record: Mapping[str, Any], matcher: Mapping[str, Any]) -> str | None:
    """None when the matcher holds, else why not."""
    name, op, expected = matcher["field"], matcher["operator"], matcher["value"]
    actual = _field(record, name)
    ok: bool
    if op == "equals":
        ok = json_equal(actual, expected)
    elif op == "contains":
        if isinstance(actual, str):
            # The original kernel read every matcher value as text, so `value: 403`
            # looks for "403" in a reason.
            ok = _text(expected) in actual
        elif isinstance(actual, list):
            ok = any(json_equal(item, expected) for item in actual)
        else:
            ok = False
    elif op == "regex":
        # The test author's own pattern over the kernel's own record, not hostile input:
        # Python's full syntax (lookaround, flags) is allowed, unlike in `matches()`.
        try:
            pattern = re.compile(_text(expected))
        except re.error as exc:
            return f"{name}: bad regex: {exc}"
        ok = isinstance(actual, str) and pattern.search(actual) is not None
    elif op in ("gt", "lt"):
        limit = _number(expected)
        if not (is_number(actual) and limit is not None):
            ok = False
        else:
            ok = actual > limit if op == "gt" else actual < limit
    else:  # pragma: no cover - the cases schema allows only the five operators
        return f"{name}: unknown operator {op!r}"
    return None if ok else f"{name} {op} {expected!r} failed (actual {actual!r})"


def _refusal_record(pack: Pack, reason: str, errors: list[dict[str, str]]) -> dict[str, Any]:
    """The record of an input that does not match `spec.inputs`: verdict `error`."""
    return {
        "pack": pack.name,
        "version": pack.version,
        "digest": pack.digest,
        "decision": "error",
        "rule": None,
        "rule_name": None,
        "reason": reason,
        "outcomes": [],
        "errors": errors,
    }


def run_case(pack: Pack, case: TestCase) -> CaseResult:
    problems = validate_input(pack, case.input)
    if problems:
        first = problems[0]
        reason = f"invalid input: {first.pointer}: {first.message}"
        record = _refusal_record(pack, reason, [p.as_dict() for p in problems])
        actual = "error"
    else:
        result = evaluate(pack, dict(case.input), case.measurements)
        record = result.as_dict()
        actual, reason = result.verdict.value, result.reason
    failures: list[str] = []
    if actual != case.expected:
        failures.append(f"decision: expected {case.expected}, got {actual}")
    # Matchers are checked on every record, a refused input's too: a case expecting
    # `error` with `reason contains "..."` must fail when the reason says otherwise.
    for matcher in case.matchers:
        why = check_matcher(record, matcher)
        if why:
            failures.append(why)
    return CaseResult(
        case.name,
        "fail" if failures else "pass",
        case.expected,
        actual,
        reason,
        tuple(failures),
        record.get("rule"),
    )


def run_pack_tests(directory: Path) -> TestReport:
    pack = load_pack(directory)
    cases = load_cases(directory)
    return TestReport(pack, tuple(run_case(pack, case) for case in cases))


__all__ = ["CaseResult", "TestReport", "check_matcher", "run_case", "run_pack_tests"]
