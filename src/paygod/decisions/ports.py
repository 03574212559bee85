"""The decision index port: idempotency keys, velocity windows, decision id -> seq."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from paygod.kernel.errors import FieldError
    from paygod.ledger import EntryDraft

# The index row is the sealed decision's (model.py); re-exported for the adapters.
from paygod.decisions.model import IndexRow as IndexRow
from paygod.decisions.model import Pack, SetResult


@dataclass(frozen=True)
class DecisionQuery:
    """A search of the index. `tenant_id` None: every tenant (platform admins); `owner`
    set: only that principal's decisions (scope `own`). Times are ISO 8601 UTC text,
    compared as text (every decided_at is written in one fixed-width form)."""

    tenant_id: str | None
    owner: str | None = None
    subject: str | None = None
    verdict: str | None = None
    pack: str | None = None
    since: str | None = None
    until: str | None = None
    limit: int = 50


class DuplicateKey(Exception):
    """Another decision already holds this (tenant, idempotency key)."""


class DecisionIndex(Protocol):
    def record(self, conn: Any, row: IndexRow) -> None:
        """Insert `row` on `conn` (the ledger's write transaction; None for memory stores).

        Raise `DuplicateKey` when the idempotency key is taken.
        """
        ...

    def set_seq(self, decision_id: str, seq: int) -> None: ...

    def by_key(self, tenant_id: str, key: str) -> IndexRow | None: ...

    def by_id(self, decision_id: str) -> IndexRow | None: ...

    def window(self, tenant_id: str, subject: str, since: str, until: str) -> tuple[int, int]:
        """(count, sum of amount_minor) of allowed or flagged decisions in [since, until]."""
        ...

    def search(self, query: DecisionQuery) -> list[IndexRow]:
        """Matching rows, newest first, at most `query.limit`."""
        ...

    def per_minute(self, tenant_id: str | None, since: str) -> list[tuple[str, str, int]]:
        """(minute "YYYY-MM-DDTHH:MM", verdict, count) of decisions since `since`."""
        ...

    def windows_in(
        self, conn: Any, tenant_id: str, subject: str, sinces: Sequence[str]
    ) -> list[tuple[int, int]]:
        """`window` for each of `sinces`, read on `conn` inside the ledger's write
        transaction, with no upper bound.

        The ledger's writers take turns (one write lock across every process), so this
        sees every decision committed before this transaction and those recorded earlier
        in it: the limits' view of "everything decided before me". No upper bound, because
        a concurrent decision whose clock read a moment later than ours may have committed
        first, and it counts.
        """
        ...


class PolicyRouter(Protocol):
    """Policy governance as the decision service sees it (paygod.governance implements it):
    which packs decide for this subject, what the shadowed challengers say, and the record
    of each decision for the promotion and rollback statistics."""

    def route(
        self, tenant_id: str, subject: str, packs: Sequence[Pack]
    ) -> tuple[list[Pack], list[Pack]]: ...

    def shadow(
        self, shadows: Sequence[Pack], input_doc: Mapping[str, Any], measures: Mapping[str, Any]
    ) -> list[dict[str, Any]]: ...

    def record(
        self,
        decision_id: str,
        deciding: Sequence[Pack],
        result: SetResult,
        shadowed: Sequence[Mapping[str, Any]],
        elapsed_ms: float,
    ) -> None: ...


class RiskScorer(Protocol):
    """What the decision service asks of risk (paygod.risk.service.RiskService): problems
    in the request's risk facts, an assessment to seal (None for a decision that moves no
    money), its ledger drafts, and word that the decision committed."""

    def problems(self, context: Mapping[str, Any]) -> list[FieldError]: ...

    def assess_request(
        self,
        *,
        tenant_id: str,
        subject: str,
        input_doc: Mapping[str, Any],
        context: Mapping[str, Any],
        now: datetime,
    ) -> Any: ...

    def drafts(
        self,
        part: Any,
        *,
        decision_id: str,
        idempotency_key: str | None,
        requested_by: str | None,
    ) -> list[EntryDraft]: ...

    def committed(self, part: Any) -> None: ...
