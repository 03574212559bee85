"""Ports the events module owns: where the relay's cursor lives, and where events go."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from paygod.events.model import PublishReport, RelayCursor, RelayEvent


class RelayCursorStore(Protocol):
    """The relay's cursor over the outbox, with a lease so one relay publishes at a time."""

    def acquire(
        self, name: str, holder: str, *, now: datetime, lease_seconds: float
    ) -> RelayCursor | None:
        """Take or renew the lease; the cursor when this holder may publish, else None."""
        ...

    def pending(self, after: tuple[int, str], *, limit: int) -> list[RelayEvent]:
        """Outbox events strictly after `after`, in (entry_seq, event_id) order."""
        ...

    def advance(
        self,
        name: str,
        holder: str,
        to: tuple[int, str],
        count: int,
        *,
        now: datetime,
        lease_seconds: float,
    ) -> bool:
        """Move the cursor (and renew the lease); False when the lease was lost meanwhile."""
        ...

    def release(self, name: str, holder: str) -> None: ...

    def get(self, name: str) -> RelayCursor | None: ...

    def lag(self, after: tuple[int, str]) -> int:
        """How many outbox events are not yet published."""
        ...


class EventPublisher(Protocol):
    """Publishes a batch in order and reports the acknowledged prefix (at-least-once)."""

    async def publish(self, events: Sequence[RelayEvent]) -> PublishReport: ...

    async def close(self) -> None: ...
