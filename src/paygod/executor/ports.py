"""Ports the executor owns: the panic switch and the outbox store."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Protocol

from paygod.executor.model import OutboxMessage, PanicState


class PanicSwitch(Protocol):
    """Flags that freeze side effects; decisions keep being made.

    One platform-wide switch (`tenant_id=None`) freezes every tenant; one switch per
    tenant freezes that tenant's side effects only. Workers honour both: the platform's,
    and the one of each message's tenant.
    """

    def status(self, tenant_id: str | None = None) -> PanicState: ...

    def turn_on(self, reason: str, actor: str, tenant_id: str | None = None) -> PanicState: ...

    def turn_off(self, actor: str, tenant_id: str | None = None) -> PanicState: ...

    def frozen_tenants(self) -> frozenset[str]:
        """The tenants whose own switch is on (the platform switch aside)."""
        ...


class OutboxStore(Protocol):
    """Claims, acknowledges, retries and dead-letters rows of the `outbox` table.

    A claim is a lease: `claimed_by`/`claimed_until` are set while the status stays
    `pending`, so a worker that dies mid-dispatch loses its claim when the lease ends and
    another worker picks the row up. `attempts` grows at claim time, so a message that
    crashes its worker every time still reaches the dead-letter queue.
    """

    def claim(
        self,
        worker_id: str,
        *,
        now: datetime,
        limit: int,
        lease_seconds: float,
        event_types: Sequence[str] | None = None,
        skip_tenants: Collection[str] = (),
    ) -> list[OutboxMessage]: ...

    def ack(self, event_id: str, worker_id: str) -> bool: ...

    def ack_many(self, event_ids: Sequence[str], worker_id: str) -> int: ...

    def release(
        self, event_id: str, worker_id: str, *, error: str, available_at: datetime
    ) -> bool: ...

    def bury(self, event_id: str, worker_id: str | None, *, error: str) -> bool: ...

    def get(self, event_id: str) -> OutboxMessage | None: ...

    def list(self, status: str, *, limit: int = 100) -> list[OutboxMessage]: ...

    def requeue(self, event_id: str, *, now: datetime) -> bool: ...

    def discard(self, event_id: str) -> bool: ...

    def counts(self) -> dict[str, int]: ...
