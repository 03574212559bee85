"""Packs, rules, outcomes and decisions: frozen values, no I/O."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from paygod.decisions.conditions import Condition


class Verdict(StrEnum):
    ALLOW = "allow"
    FLAG = "flag"
    ERROR = "error"
    DENY = "deny"

    @property
    def severity(self) -> int:
        """deny > error > flag > allow: the strictest verdict of a policy set wins."""
        return _SEVERITY[self]


_SEVERITY = {Verdict.ALLOW: 0, Verdict.FLAG: 1, Verdict.ERROR: 2, Verdict.DENY: 3}


@dataclass(frozen=True)
class Rule:
    index: int
    name: str
    condition: Condition
    decision: Verdict
    reason: str
    # What to do when this rule decides `allow` and the request names no action
    # (docs/actions.md); an extension member, absent from plain paygod/v1 packs.
    action: Mapping[str, Any] | None = None
    # Controls this rule implements (`framework:id`, docs/assurance.md), the pack's
    # own `metadata.controls` included; empty for plain paygod/v1 packs.
    controls: tuple[str, ...] = ()


@dataclass(frozen=True)
class PackInput:
    name: str
    type: str | None
    source: str | None
    schema: Mapping[str, Any] | None
    required: bool = False


@dataclass(frozen=True)
class Pack:
    """A loaded, validated, compiled paygod/v1 pack.

    `digest` is the lowercase hex sha256 of the exact bytes of `pack.yaml` (the file
    that decides; tests and manifest do not change a verdict), as the original kernel.
    """

    name: str
    version: str
    description: str
    digest: str
    source: bytes
    inputs: tuple[PackInput, ...]
    rules: tuple[Rule, ...]
    path: Path | None = None
    document: Mapping[str, Any] = field(default_factory=dict)
    manifest: Mapping[str, Any] | None = None
    validators: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)
    # (check, verdict, rule name) per rule, in order: the engine's hot loop reads only this.
    plan: tuple[tuple[Any, Verdict, str], ...] = field(default=(), compare=False, repr=False)
    # The pack's own measurements (decisions/pack_measures.py), computed before its rules.
    measures: tuple[Any, ...] = field(default=(), compare=False, repr=False)

    def __post_init__(self) -> None:
        if not self.plan:
            plan = tuple((r.condition.check, r.decision, r.name) for r in self.rules)
            object.__setattr__(self, "plan", plan)

    def summary(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            "description": self.description,
            "digest": self.digest,
            "rules": [r.name for r in self.rules],
            "inputs": [i.name for i in self.inputs],
        }


@dataclass(frozen=True)
class RuleOutcome:
    """What one rule did: matched, did not match, errored, or was never reached."""

    rule: str
    index: int
    status: str  # matched | not_matched | error | skipped
    values: Mapping[str, Any] = field(default_factory=dict)
    error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"rule": self.rule, "index": self.index, "status": self.status}
        if self.values:
            out["values"] = dict(self.values)
        if self.error:
            out["error"] = self.error
        return out


@dataclass(frozen=True)
class PackResult:
    """One pack's verdict on one input, with the trace that explains it."""

    pack: str
    version: str
    digest: str
    verdict: Verdict
    rule: str | None
    reason: str
    outcomes: tuple[RuleOutcome, ...] = ()
    # The pack's own measurements with their explanation; absent for a plain paygod/v1 pack.
    measurements: tuple[Mapping[str, Any], ...] = ()

    def as_dict(self) -> dict[str, Any]:
        found = {
            "pack": self.pack,
            "version": self.version,
            "digest": self.digest,
            "decision": self.verdict.value,
            "rule": self.rule,
            "rule_name": self.rule,
            "reason": self.reason,
            "outcomes": [o.as_dict() for o in self.outcomes],
        }
        if self.measurements:
            found["measurements"] = [dict(m) for m in self.measurements]
        return found


@dataclass(frozen=True)
class SetResult:
    """A policy set's verdict: the strictest of its packs' verdicts."""

    verdict: Verdict
    deciding: PackResult
    results: tuple[PackResult, ...]

    @property
    def reason(self) -> str:
        return self.deciding.reason

    def as_dict(self) -> dict[str, Any]:
        return {
            "decision": self.verdict.value,
            "pack": self.deciding.pack,
            "rule": self.deciding.rule,
            "rule_name": self.deciding.rule,
            "reason": self.deciding.reason,
            "packs": [r.as_dict() for r in self.results],
        }
