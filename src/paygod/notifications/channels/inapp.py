"""In-app messages: kept per principal in the tenant's inbox, read over the API."""

from __future__ import annotations

from collections.abc import Callable

import orjson

from paygod.notifications.model import Delivery, InboxMessage, Rendered, Subscription


class InappChannel:
    def __init__(self, keep: Callable[[InboxMessage], None]) -> None:
        self.keep = keep  # stores the message (idempotent on its id, the delivery id)

    def send(self, delivery: Delivery, subscription: Subscription, message: Rendered) -> bytes:
        self.keep(
            InboxMessage(
                message_id=delivery.delivery_id,
                tenant_id=delivery.tenant_id,
                principal=subscription.target,
                event_type=delivery.event_type,
                subject=message.subject,
                body=message.body,
                created_at=delivery.created_at,
            )
        )
        return orjson.dumps({"subject": message.subject, "body": message.body})
