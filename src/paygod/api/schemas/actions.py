"""Success bodies of the action routes (`api/routers/actions.py`)."""

from __future__ import annotations

from typing import Any

from paygod.api.schemas import Body


class OutboxRow(Body):
    status: str
    attempts: int
    available_at: str
    last_error: str | None


class ActionStatus(Body):
    """Where a decision's action stands: its sealed results and its outbox row."""

    decision_id: str
    action_id: str
    type: str | None
    destination: str | None
    source: str | None
    status: str
    attempts: int
    results: list[dict[str, Any]]
    outbox: OutboxRow | None


class Destination(Body):
    """An allowlisted webhook destination: everything but its secret."""

    name: str
    url: str
    allow_private: bool
    timeout_seconds: float
    created_at: str | None
    created_by: str | None


class Destinations(Body):
    destinations: list[Destination]
