"""Packs, rules, outcomes and decisions: frozen values, no I/O."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from paygod.canonical import sha256_hex
from paygod.decisions.conditions import Condition
from paygod.decisions.evidence import build_evidence
from paygod.kernel.clock import isoformat
from paygod.kernel.events import EventEnvelope

EVENT_TYPE = "decision.finalized"


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


@dataclass(frozen=True)
class IndexRow:
    decision_id: str
    tenant_id: str
    idempotency_key: str | None
    request_hash: str
    subject: str
    verdict: str
    amount_minor: int | None
    decided_at: str
    seq: int | None = None
    # The principal that asked for the decision: under scope `own` (agents) it is the only
    # one who may read it or replay its idempotency key.
    requested_by: str | None = None
    # The pack whose rule gave the verdict (the console searches by it).
    pack: str | None = None


@dataclass(frozen=True)
class DecisionRequest:
    """A checked request, identified: what every evaluation of it (outside the ledger's
    writer, and again inside it when the limits moved) shares."""

    decision_id: str
    tenant_id: str
    subject: str
    input: Mapping[str, Any]
    context: Mapping[str, Any]
    input_hash: str  # hex sha256 of the input's RFC 8785 form
    request_hash: str  # hex sha256 of the request's identity (the Idempotency-Key's check)
    idempotency_key: str | None
    requested_by: str | None
    amount: int | None
    now: datetime
    traceparent: str | None = None

    @property
    def decided_at(self) -> str:
        return isoformat(self.now)


@dataclass(frozen=True)
class SealedDecision:
    """One evaluation of a request, as it is sealed: its record (the `decision` entry's
    payload), its evidence, its `decision.finalized` event and its index row."""

    request: DecisionRequest
    result: SetResult
    measurements: Sequence[Mapping[str, Any]]
    pack_digests: Sequence[str]
    shadow: Sequence[Mapping[str, Any]] = ()  # challengers beside the packs, never deciding
    action: Mapping[str, Any] | None = None  # the action member, when one is planned
    # The record and the evidence both name it: hashed once, when the decision is made.
    # Not a functools.cached_property: on Python 3.11 that holds one lock for every
    # instance, so concurrent decisions queued behind each other's hashing.
    measurements_digest: str = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        digest = "sha256:" + sha256_hex(list(self.measurements))
        object.__setattr__(self, "measurements_digest", digest)

    def record(self) -> dict[str, Any]:
        r, result = self.request, self.result
        record: dict[str, Any] = {
            "decision_id": r.decision_id,
            "tenant_id": r.tenant_id,
            "subject": r.subject,
            "decided_at": r.decided_at,
            "decision": result.verdict.value,
            "pack": result.deciding.pack,
            "rule": result.deciding.rule,
            "reason": result.reason,
            "packs": [pack_record(p) for p in result.results],
            "input": r.input,
            "input_hash": f"sha256:{r.input_hash}",
            "context": r.context,
            "measurements": self.measurements,
            "measurements_digest": self.measurements_digest,
            "idempotency_key": r.idempotency_key,
            "request_hash": f"sha256:{r.request_hash}",
        }
        if r.requested_by is not None:  # sealed so the index row rebuilds from the ledger
            record["requested_by"] = r.requested_by
        if self.shadow:  # absent otherwise: decisions without challengers keep their bytes
            record["shadow"] = self.shadow
        if self.action is not None:
            record["action"] = self.action
        return record

    def evidence(self) -> dict[str, Any]:
        r = self.request
        return build_evidence(
            subject=r.subject,
            input_hash=r.input_hash,
            pack_digests=self.pack_digests,
            context_refs=list(r.context.get("evidence_refs") or []),
            measurements_digest=self.measurements_digest,
            explanation=self.result.as_dict(),
        )

    def event(self) -> EventEnvelope:
        """A new `decision.finalized` envelope (each call draws a fresh event id)."""
        r, result = self.request, self.result
        return EventEnvelope(
            event_type=EVENT_TYPE,
            aggregate_id=r.decision_id,
            aggregate_type="decision",
            tenant_id=r.tenant_id,
            payload={
                "decision_id": r.decision_id,
                "decision": result.verdict.value,
                "subject": r.subject,
                "pack": result.deciding.pack,
                "rule": result.deciding.rule,
                "input": r.input,
                "context": r.context,
                "amount_minor": r.amount,
            },
            occurred_at=r.now,
            recorded_at=r.now,
            correlation_id=r.idempotency_key,
            traceparent=r.traceparent,
        )

    def index_row(self) -> IndexRow:
        """The row is written in the ledger's transaction; its seq is set there."""
        r = self.request
        return IndexRow(
            r.decision_id,
            r.tenant_id,
            r.idempotency_key,
            r.request_hash,
            r.subject,
            self.result.verdict.value,
            r.amount,
            r.decided_at,
            requested_by=r.requested_by,
            pack=self.result.deciding.pack,
        )


def pack_record(result: PackResult) -> dict[str, Any]:
    """One pack's part in a sealed decision; a pack that measures adds its measurements
    (each value with its terms or plug-in: decisions/pack_measures.py)."""
    record: dict[str, Any] = {
        "name": result.pack,
        "version": result.version,
        "digest": result.digest,
        "decision": result.verdict.value,
        "rule": result.rule,
        "reason": result.reason,
    }
    if result.measurements:
        record["measurements"] = [dict(m) for m in result.measurements]
    return record
