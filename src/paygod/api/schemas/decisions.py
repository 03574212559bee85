"""Success bodies of the decision routes (`api/routers/decisions.py`)."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from paygod.api.schemas import Body
from paygod.api.schemas.ledger import InclusionProof, TreeHead


class RuleOutcome(Body):
    """What one rule did: matched, not_matched, error or skipped; `values` are the inputs
    it read, `error` why it failed (each only when there is one)."""

    rule: str
    index: int
    status: str
    values: dict[str, Any] | None = None
    error: str | None = None


class PackVerdict(Body):
    """One pack's part in a sealed decision."""

    name: str
    version: str
    digest: str
    decision: str
    rule: str | None
    reason: str | None


class DecisionLedger(Body):
    """Where the decision sits in the ledger; the proofs come with a receipt."""

    seq: int
    entry_id: str
    record_hash: str
    recorded_at: str
    evidence_seq: int | None
    measurements_seq: int | None
    inclusion_proof: InclusionProof | None = None
    tree_head: TreeHead | None = None


class Decision(Body):
    """A sealed decision with its evidence (DESIGN.md: the decision record)."""

    decision_id: str
    tenant_id: str
    subject: str
    decided_at: str
    decision: str
    pack: str | None
    rule: str | None
    reason: str | None
    packs: list[PackVerdict]
    input: dict[str, Any]
    input_hash: str
    context: dict[str, Any]
    measurements: list[dict[str, Any]]
    measurements_digest: str
    idempotency_key: str
    request_hash: str
    requested_by: str | None = Field(
        default=None, description="The principal that asked (sealed since projections rebuild it)"
    )
    shadow: list[dict[str, Any]] | None = Field(
        default=None, description="Challengers evaluated beside the packs, never deciding"
    )
    action: dict[str, Any] | None = Field(
        default=None, description="The side effect to perform once (docs/actions.md)"
    )
    evidence: dict[str, Any] | None
    explanation: dict[str, Any] | None
    ledger: DecisionLedger
    receipt: dict[str, Any] | None
    replayed: bool


class DecisionRow(Body):
    decision_id: str
    tenant_id: str
    subject: str
    verdict: str
    pack: str | None
    decided_at: str
    seq: int
    requested_by: str | None


class DecisionSearch(Body):
    decisions: list[DecisionRow]


class ReplayedPack(Body):
    name: str
    version: str
    digest: str
    decision: str
    rule: str | None
    changed_outcome: bool


class Replay(Body):
    """Would the recorded packs, and today's, decide the same?"""

    seq: int
    decision_id: str
    identical: bool
    recorded: dict[str, Any]
    today: dict[str, Any]
    current_packs: list[ReplayedPack]
    notes: list[str]


class PackSummary(Body):
    name: str
    version: str
    description: str | None
    digest: str
    rules: list[str]
    inputs: list[str]


class RefusedPack(Body):
    path: str
    detail: str
    errors: list[dict[str, Any]]


class PackList(Body):
    directory: str
    bundled: bool
    packs: list[PackSummary]
    refused: list[RefusedPack]


class Evaluation(Body):
    """A dry run of one pack: nothing sealed."""

    pack: str
    version: str
    digest: str
    decision: str
    rule: str | None
    rule_name: str | None
    reason: str | None
    outcomes: list[RuleOutcome]
    sealed: bool
