"""Webhooks, signed as Standard Webhooks (standardwebhooks.com, "Signature scheme").

Headers `webhook-id` (the delivery id, stable over retries: receivers deduplicate on it),
`webhook-timestamp` (unix seconds) and `webhook-signature` = `v1,<base64 HMAC-SHA256>` over
`"<id>.<timestamp>.<body>"` with the secret's bytes (the part after `whsec_`, base64). The
timestamp inside the MAC lets receivers refuse replays past their tolerance, as inbound
rail webhooks do here (payments/signing.py). Address rules are the webhook action's
(actions/destinations.py): every resolved address must be public unless the subscription
allows private ones, checked at each send because DNS answers change; redirects are not
followed; plain http connects to the vetted address.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

import httpx
import orjson

from paygod.actions.destinations import AddressRefused, delivered, post_pinned, refused_for_good
from paygod.kernel.clock import Clock
from paygod.notifications.model import Delivery, Rendered, Subscription
from paygod.notifications.ports import SendFailed

SECRET_PREFIX = "whsec_"


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def signature(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    key = base64.b64decode(secret.removeprefix(SECRET_PREFIX))
    signed = f"{msg_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


def verify(secret: str, headers: dict[str, str], body: bytes) -> bool:
    """What a receiver does (and what the tests do): any listed v1 signature matches."""
    expected = signature(
        secret, headers["webhook-id"], int(headers["webhook-timestamp"]), body
    ).split(",", 1)[1]
    offered = [s.split(",", 1)[1] for s in headers["webhook-signature"].split() if "," in s]
    return any(hmac.compare_digest(expected, s) for s in offered)


class WebhookChannel:
    def __init__(self, clock: Clock, *, timeout_seconds: float = 5.0) -> None:
        self.clock = clock
        self.timeout_seconds = timeout_seconds

    def body(self, delivery: Delivery, message: Rendered) -> bytes:
        event = delivery.event
        return orjson.dumps(
            {
                "type": delivery.event_type,
                "timestamp": event.get("occurred_at"),
                "data": {
                    "event_id": delivery.event_id,
                    "aggregate_type": event.get("aggregate_type"),
                    "aggregate_id": event.get("aggregate_id"),
                    "tenant_id": delivery.tenant_id,
                    "subject": message.subject,
                    "payload": event.get("payload") or {},
                },
            },
            option=orjson.OPT_SORT_KEYS,
        )

    def send(self, delivery: Delivery, subscription: Subscription, message: Rendered) -> bytes:
        body = self.body(delivery, message)
        timestamp = int(self.clock.now().timestamp())
        headers = {
            "content-type": "application/json",
            "webhook-id": delivery.delivery_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": signature(
                subscription.secret or "", delivery.delivery_id, timestamp, body
            ),
        }
        try:
            response = post_pinned(
                subscription.target,
                allow_private=subscription.allow_private,
                body=body,
                headers=headers,
                timeout=self.timeout_seconds,
            )
        except AddressRefused as exc:
            raise SendFailed(str(exc), permanent=True) from None
        except httpx.HTTPError as exc:
            raise SendFailed(f"{type(exc).__name__}: {exc}") from exc
        status = response.status_code
        if delivered(status):
            return body
        raise SendFailed(f"HTTP {status}", permanent=refused_for_good(status))
