"""The notifications ports: a channel sends one rendered notification; a store keeps state."""

from __future__ import annotations

from typing import Any, Protocol

from paygod.notifications.model import (
    Delivery,
    DeliveryStatus,
    InboxMessage,
    Rendered,
    Subscription,
)


class SendFailed(Exception):
    """A channel could not send. `permanent`: retrying cannot help (a 4xx, a refused address)."""

    def __init__(self, reason: str, *, permanent: bool = False) -> None:
        super().__init__(reason)
        self.permanent = permanent


class NotificationChannel(Protocol):
    """One way out (webhook, e-mail, in-app). Raises SendFailed; must tolerate a resend of the
    same delivery id (the executor may run a delivery again after a crash)."""

    def send(self, delivery: Delivery, subscription: Subscription, message: Rendered) -> bytes:
        """Send `message`; return the exact bytes sent (their digest is sealed)."""
        ...


class NotificationStore(Protocol):
    def put_subscription(self, conn: Any, subscription: Subscription) -> None: ...
    def delete_subscription(self, conn: Any, tenant_id: str, subscription_id: str) -> bool: ...
    def subscription(self, tenant_id: str, subscription_id: str) -> Subscription | None: ...
    def subscriptions(self, tenant_id: str | None) -> list[Subscription]: ...
    def add_delivery(self, conn: Any, delivery: Delivery) -> bool: ...
    def delivery(self, delivery_id: str) -> Delivery | None: ...
    def update_delivery(
        self,
        conn: Any,
        delivery_id: str,
        *,
        status: DeliveryStatus,
        attempts: int,
        last_error: str | None,
        digest: str | None,
        at: str,
    ) -> None: ...
    def deliveries(
        self, tenant_id: str, *, status: str | None = None, limit: int = 100
    ) -> list[Delivery]: ...
    def add_message(self, conn: Any, message: InboxMessage) -> None: ...
    def inbox(
        self, tenant_id: str, principal: str, *, unread: bool = False
    ) -> list[InboxMessage]: ...
    def mark_read(
        self, conn: Any, tenant_id: str, principal: str, message_id: str, at: str
    ) -> bool: ...
