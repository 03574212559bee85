"""Executor values: the panic switch state and one outbox row as a worker sees it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from paygod.kernel.clock import isoformat, parse_instant


@dataclass(frozen=True, slots=True)
class PanicState:
    """Whether side effects are frozen, why, by whom and since when.

    `tenant_id` names the switch: None is the platform-wide switch (every tenant's side
    effects; only platform admins see or move it), a tenant id that tenant's own switch
    (its own side effects; its operators see and move it, no other tenant does).
    """

    on: bool
    reason: str | None = None
    actor: str | None = None
    since: datetime | None = None
    tenant_id: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "on": self.on,
            "reason": self.reason,
            "actor": self.actor,
            "since": isoformat(self.since) if self.since else None,
            "tenant_id": self.tenant_id,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PanicState:
        since = data.get("since")
        tenant = data.get("tenant_id")
        return cls(
            on=bool(data.get("on")),
            reason=data.get("reason"),
            actor=data.get("actor"),
            since=parse_instant(since) if isinstance(since, str) else None,
            tenant_id=tenant if isinstance(tenant, str) else None,
        )


PANIC_OFF = PanicState(on=False)


def panic_off(tenant_id: str | None = None) -> PanicState:
    """A switch never turned on."""
    return PanicState(on=False, tenant_id=tenant_id)


OUTBOX_STATUSES = ("pending", "done", "dead")


@dataclass(frozen=True, slots=True)
class OutboxMessage:
    """One row of the `outbox` table: an event waiting for (or done with) its side effect."""

    event_id: str
    entry_seq: int | None
    event_type: str
    tenant_id: str
    aggregate_id: str
    envelope: dict[str, Any]
    status: str
    attempts: int
    available_at: str
    claimed_by: str | None = None
    claimed_until: str | None = None
    last_error: str | None = None
    created_at: str | None = None

    @property
    def payload(self) -> dict[str, Any]:
        payload = self.envelope.get("payload")
        return dict(payload) if isinstance(payload, dict) else {}

    def as_dict(self) -> dict[str, Any]:
        return {
            "event_id": self.event_id,
            "entry_seq": self.entry_seq,
            "event_type": self.event_type,
            "tenant_id": self.tenant_id,
            "aggregate_id": self.aggregate_id,
            "status": self.status,
            "attempts": self.attempts,
            "available_at": self.available_at,
            "claimed_by": self.claimed_by,
            "claimed_until": self.claimed_until,
            "last_error": self.last_error,
            "created_at": self.created_at,
            "envelope": self.envelope,
        }
