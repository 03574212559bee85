"""The notifications store in memory (tests, the memory ledger)."""

from __future__ import annotations

import dataclasses
import threading
from typing import Any

from paygod.notifications.model import Delivery, DeliveryStatus, InboxMessage, Subscription


class MemoryNotificationStore:
    def __init__(self) -> None:
        self._subs: dict[str, Subscription] = {}
        self._deliveries: dict[str, Delivery] = {}
        self._inbox: dict[str, InboxMessage] = {}
        self._lock = threading.Lock()

    def put_subscription(self, conn: Any, subscription: Subscription) -> None:
        with self._lock:
            self._subs[subscription.subscription_id] = subscription

    def delete_subscription(self, conn: Any, tenant_id: str, subscription_id: str) -> bool:
        with self._lock:
            found = self._subs.get(subscription_id)
            if found is None or found.tenant_id != tenant_id:
                return False
            del self._subs[subscription_id]
            return True

    def subscription(self, tenant_id: str, subscription_id: str) -> Subscription | None:
        found = self._subs.get(subscription_id)
        return found if found is not None and found.tenant_id == tenant_id else None

    def subscriptions(self, tenant_id: str | None) -> list[Subscription]:
        with self._lock:
            found = [s for s in self._subs.values() if tenant_id in (None, s.tenant_id)]
        return sorted(found, key=lambda s: (s.created_at, s.subscription_id))

    def add_delivery(self, conn: Any, delivery: Delivery) -> bool:
        with self._lock:
            if delivery.delivery_id in self._deliveries:
                return False
            self._deliveries[delivery.delivery_id] = delivery
            return True

    def delivery(self, delivery_id: str) -> Delivery | None:
        return self._deliveries.get(delivery_id)

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
    ) -> None:
        with self._lock:
            old = self._deliveries[delivery_id]
            self._deliveries[delivery_id] = dataclasses.replace(
                old,
                status=status,
                attempts=attempts,
                last_error=last_error,
                digest=digest,
                updated_at=at,
            )

    def deliveries(
        self, tenant_id: str, *, status: str | None = None, limit: int = 100
    ) -> list[Delivery]:
        with self._lock:
            found = [
                d
                for d in self._deliveries.values()
                if d.tenant_id == tenant_id and status in (None, d.status.value)
            ]
        found.sort(key=lambda d: (d.created_at, d.delivery_id), reverse=True)
        return found[:limit]

    def add_message(self, conn: Any, message: InboxMessage) -> None:
        with self._lock:
            self._inbox.setdefault(message.message_id, message)

    def inbox(self, tenant_id: str, principal: str, *, unread: bool = False) -> list[InboxMessage]:
        with self._lock:
            found = [
                m
                for m in self._inbox.values()
                if (m.tenant_id, m.principal) == (tenant_id, principal)
                and not (unread and m.read_at)
            ]
        return sorted(found, key=lambda m: (m.created_at, m.message_id), reverse=True)

    def mark_read(
        self, conn: Any, tenant_id: str, principal: str, message_id: str, at: str
    ) -> bool:
        with self._lock:
            found = self._inbox.get(message_id)
            if found is None or (found.tenant_id, found.principal) != (tenant_id, principal):
                return False
            if found.read_at is None:
                self._inbox[message_id] = dataclasses.replace(found, read_at=at)
            return True
