"""Relay values: one outbox event to publish, the relay's cursor, what a publish achieved."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

GENESIS_SEQ = -1  # a cursor before the first ledger entry


@dataclass(frozen=True, slots=True)
class RelayEvent:
    """An outbox row in relay order: (entry_seq, event_id). `body` is the envelope's JSON."""

    event_id: str
    entry_seq: int
    event_type: str
    tenant_id: str
    body: bytes

    @property
    def position(self) -> tuple[int, str]:
        return (self.entry_seq, self.event_id)


@dataclass(frozen=True, slots=True)
class RelayCursor:
    """How far the named relay has published, and which relay holds the lease."""

    name: str
    last_seq: int = GENESIS_SEQ
    last_event_id: str = ""
    published: int = 0
    holder: str | None = None
    lease_until: str | None = None
    updated_at: str | None = None

    @property
    def position(self) -> tuple[int, str]:
        return (self.last_seq, self.last_event_id)

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "last_seq": self.last_seq,
            "last_event_id": self.last_event_id or None,
            "published": self.published,
            "holder": self.holder,
            "lease_until": self.lease_until,
            "updated_at": self.updated_at,
        }


@dataclass(slots=True)
class PublishReport:
    """The acknowledged prefix of a batch: the cursor may move past exactly these events.

    `duplicates` counts events the broker had already stored (a relay that died between
    publish and cursor update publishes them again; JetStream drops them by message id).
    """

    acked: int = 0
    duplicates: int = 0
    error: str | None = None
    streams: dict[str, int] = field(default_factory=dict)
