"""Rows to values and back (shared by the SQL store and the tests)."""

from __future__ import annotations

from typing import Any

from paygod.notifications.model import Channel, Delivery, DeliveryStatus, InboxMessage, Subscription


def subscription_from(doc: dict[str, Any], secret: str | None) -> Subscription:
    return Subscription(
        subscription_id=doc["subscription_id"],
        tenant_id=doc["tenant_id"],
        channel=Channel(doc["channel"]),
        target=doc["target"],
        event_types=tuple(doc["event_types"]),
        created_at=doc["created_at"],
        created_by=doc["created_by"],
        allow_private=bool(doc.get("allow_private")),
        secret=secret,
    )


def delivery_doc(d: Delivery) -> dict[str, Any]:
    return {**d.as_dict(), "event": d.event}


def delivery_from(doc: dict[str, Any], row: tuple[Any, ...]) -> Delivery:
    status, attempts, last_error, digest, updated_at = row
    return Delivery(
        delivery_id=doc["delivery_id"],
        tenant_id=doc["tenant_id"],
        subscription_id=doc["subscription_id"],
        event_id=doc["event_id"],
        event_type=doc["event_type"],
        channel=Channel(doc["channel"]),
        target=doc["target"],
        status=DeliveryStatus(status),
        attempts=int(attempts),
        created_at=doc["created_at"],
        updated_at=updated_at,
        event=dict(doc.get("event") or {}),
        last_error=last_error,
        digest=digest,
    )


def inbox_doc(m: InboxMessage) -> dict[str, Any]:
    return {**m.as_dict(), "tenant_id": m.tenant_id, "principal": m.principal}


def inbox_from(doc: dict[str, Any], read_at: str | None) -> InboxMessage:
    return InboxMessage(
        message_id=doc["message_id"],
        tenant_id=doc["tenant_id"],
        principal=doc["principal"],
        event_type=doc["event_type"],
        subject=doc["subject"],
        body=doc["body"],
        created_at=doc["created_at"],
        read_at=read_at,
    )
