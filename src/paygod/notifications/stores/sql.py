"""The notifications store on SQL (SQLite or PostgreSQL); writes run on the ledger's
write transaction (`conn`), so a subscription and its ledger entry commit together."""

from __future__ import annotations

from typing import Any

import orjson

from paygod.kernel.database import SqlStore
from paygod.notifications.model import Delivery, DeliveryStatus, InboxMessage, Subscription
from paygod.notifications.stores.codec import (
    delivery_doc,
    delivery_from,
    inbox_doc,
    inbox_from,
    subscription_from,
)


def _json(value: dict[str, Any]) -> str:
    return orjson.dumps(value).decode()


class SqlNotificationStore(SqlStore):
    # -- subscriptions ------------------------------------------------------------------

    def put_subscription(self, conn: Any, subscription: Subscription) -> None:
        p = self.p
        conn.execute(
            "INSERT INTO notification_subscriptions (subscription_id, tenant_id, doc, secret) "
            f"VALUES ({p}, {p}, {p}, {p})",
            (
                subscription.subscription_id,
                subscription.tenant_id,
                _json(subscription.as_dict()),
                subscription.secret,
            ),
        )

    def delete_subscription(self, conn: Any, tenant_id: str, subscription_id: str) -> bool:
        cursor = conn.execute(
            "DELETE FROM notification_subscriptions "
            f"WHERE subscription_id = {self.p} AND tenant_id = {self.p}",
            (subscription_id, tenant_id),
        )
        return bool(cursor.rowcount == 1)

    def subscription(self, tenant_id: str, subscription_id: str) -> Subscription | None:
        rows = self._read(
            "SELECT doc, secret FROM notification_subscriptions "
            f"WHERE subscription_id = {self.p} AND tenant_id = {self.p}",
            (subscription_id, tenant_id),
        )
        return subscription_from(orjson.loads(rows[0][0]), rows[0][1]) if rows else None

    def subscriptions(self, tenant_id: str | None) -> list[Subscription]:
        if tenant_id is None:
            rows = self._read("SELECT doc, secret FROM notification_subscriptions")
        else:
            rows = self._read(
                f"SELECT doc, secret FROM notification_subscriptions WHERE tenant_id = {self.p}",
                (tenant_id,),
            )
        found = [subscription_from(orjson.loads(r[0]), r[1]) for r in rows]
        return sorted(found, key=lambda s: (s.created_at, s.subscription_id))

    # -- deliveries ---------------------------------------------------------------------

    def add_delivery(self, conn: Any, delivery: Delivery) -> bool:
        p = self.p
        cursor = conn.execute(
            "INSERT INTO notification_deliveries (delivery_id, tenant_id, status, attempts, "
            "last_error, digest, created_at, updated_at, doc) "
            f"VALUES ({p}, {p}, {p}, {p}, {p}, {p}, {p}, {p}, {p}) "
            "ON CONFLICT (delivery_id) DO NOTHING",
            (
                delivery.delivery_id,
                delivery.tenant_id,
                delivery.status.value,
                delivery.attempts,
                delivery.last_error,
                delivery.digest,
                delivery.created_at,
                delivery.updated_at,
                _json(delivery_doc(delivery)),
            ),
        )
        return bool(cursor.rowcount == 1)

    _COLUMNS = "doc, status, attempts, last_error, digest, updated_at"

    def delivery(self, delivery_id: str) -> Delivery | None:
        rows = self._read(
            f"SELECT {self._COLUMNS} FROM notification_deliveries WHERE delivery_id = {self.p}",
            (delivery_id,),
        )
        return delivery_from(orjson.loads(rows[0][0]), tuple(rows[0][1:])) if rows else None

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
        p = self.p
        conn.execute(
            f"UPDATE notification_deliveries SET status = {p}, attempts = {p}, "
            f"last_error = {p}, digest = {p}, updated_at = {p} WHERE delivery_id = {p}",
            (status.value, attempts, last_error, digest, at, delivery_id),
        )

    def deliveries(
        self, tenant_id: str, *, status: str | None = None, limit: int = 100
    ) -> list[Delivery]:
        p = self.p
        where, params = f"tenant_id = {p}", [tenant_id]
        if status is not None:
            where += f" AND status = {p}"
            params.append(status)
        rows = self._read(
            f"SELECT {self._COLUMNS} FROM notification_deliveries WHERE {where} "
            f"ORDER BY created_at DESC, delivery_id DESC LIMIT {int(limit)}",
            tuple(params),
        )
        return [delivery_from(orjson.loads(r[0]), tuple(r[1:])) for r in rows]

    # -- inbox --------------------------------------------------------------------------

    def add_message(self, conn: Any, message: InboxMessage) -> None:
        p = self.p
        conn.execute(
            "INSERT INTO notification_inbox (message_id, tenant_id, principal, created_at, "
            f"read_at, doc) VALUES ({p}, {p}, {p}, {p}, NULL, {p}) "
            "ON CONFLICT (message_id) DO NOTHING",
            (
                message.message_id,
                message.tenant_id,
                message.principal,
                message.created_at,
                _json(inbox_doc(message)),
            ),
        )

    def inbox(self, tenant_id: str, principal: str, *, unread: bool = False) -> list[InboxMessage]:
        p = self.p
        rows = self._read(
            f"SELECT doc, read_at FROM notification_inbox WHERE tenant_id = {p} "
            f"AND principal = {p}{' AND read_at IS NULL' if unread else ''} "
            "ORDER BY created_at DESC, message_id DESC LIMIT 500",
            (tenant_id, principal),
        )
        return [inbox_from(orjson.loads(r[0]), r[1]) for r in rows]

    def mark_read(
        self, conn: Any, tenant_id: str, principal: str, message_id: str, at: str
    ) -> bool:
        p = self.p
        cursor = conn.execute(
            f"UPDATE notification_inbox SET read_at = COALESCE(read_at, {p}) "
            f"WHERE message_id = {p} AND tenant_id = {p} AND principal = {p}",
            (at, message_id, tenant_id, principal),
        )
        return bool(cursor.rowcount == 1)
