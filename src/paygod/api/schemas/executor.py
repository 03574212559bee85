"""Success bodies of the executor routes (`api/routers/executor.py`)."""

from __future__ import annotations

from typing import Any

from paygod.api.schemas import Body
from paygod.api.schemas.admin import PanicView
from paygod.api.schemas.ledger import TreeHead


class DeadLetter(Body):
    """An outbox message that failed every attempt."""

    event_id: str
    entry_seq: int | None
    event_type: str
    tenant_id: str
    aggregate_id: str
    status: str
    attempts: int
    available_at: str
    claimed_by: str | None
    claimed_until: str | None
    last_error: str | None
    created_at: str | None
    envelope: dict[str, Any]


class DeadLetters(Body):
    dead: list[DeadLetter]


class MinuteCount(Body):
    minute: str
    verdict: str
    count: int


class LedgerSize(Body):
    size: int | None
    last_signed_head: TreeHead | None


class Overview(Body):
    """The console's front page. The outbox, relay and tree are shared by every tenant,
    so a tenant caller gets null for them (docs/security.md)."""

    now: str
    window_minutes: int
    decisions_per_minute: list[MinuteCount]
    payments_by_state: dict[str, int]
    outbox: dict[str, int] | None
    relay_lag: int | None
    panic: PanicView
    ledger: LedgerSize
