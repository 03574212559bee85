"""The decision index port: idempotency keys, velocity windows, decision id -> seq."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol


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
