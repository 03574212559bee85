"""Notification values: subscriptions, deliveries, in-app messages, and event-type patterns."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Channel(StrEnum):
    WEBHOOK = "webhook"
    EMAIL = "email"
    INAPP = "inapp"


class DeliveryStatus(StrEnum):
    PENDING = "pending"  # queued or retrying (last_error says why)
    SENT = "sent"
    DEAD = "dead"  # max attempts reached or refused for good: in the executor's DLQ


# `credit.approved`, `credit.*`, `*`: dotted names, a trailing `*` matches any suffix.
PATTERN = re.compile(r"^(\*|[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*(\.\*)?)$")
# The deliveries' own events are never offered again (a subscription to `*` would loop).
OWN_EVENT = "notification.deliver"


def pattern_problem(pattern: object) -> str | None:
    if not isinstance(pattern, str) or len(pattern) > 128 or not PATTERN.match(pattern):
        return "expected an event type such as payment.settled, a prefix such as credit.* or *"
    return None


def matches(pattern: str, event_type: str) -> bool:
    if event_type == OWN_EVENT:
        return False
    if pattern == "*":
        return True
    if pattern.endswith(".*"):
        return event_type.startswith(pattern[:-1])
    return pattern == event_type


@dataclass(frozen=True, slots=True)
class Subscription:
    subscription_id: str
    tenant_id: str
    channel: Channel
    target: str  # an https URL, an e-mail address, or a principal id (in-app)
    event_types: tuple[str, ...]
    created_at: str
    created_by: str
    allow_private: bool = False
    # Webhook signing secret (Standard Webhooks `whsec_` form); never in the ledger or listings.
    secret: str | None = field(default=None, repr=False)

    def wants(self, event_type: str) -> bool:
        return any(matches(p, event_type) for p in self.event_types)

    def as_dict(self) -> dict[str, Any]:
        return {
            "subscription_id": self.subscription_id,
            "tenant_id": self.tenant_id,
            "channel": self.channel.value,
            "target": self.target,
            "event_types": list(self.event_types),
            "allow_private": self.allow_private,
            "created_at": self.created_at,
            "created_by": self.created_by,
        }


@dataclass(frozen=True, slots=True)
class Delivery:
    delivery_id: str
    tenant_id: str
    subscription_id: str
    event_id: str
    event_type: str
    channel: Channel
    target: str
    status: DeliveryStatus
    attempts: int
    created_at: str
    updated_at: str
    event: dict[str, Any] = field(repr=False, default_factory=dict)
    last_error: str | None = None
    digest: str | None = None  # sha256 of what was sent (the body is never kept)

    def as_dict(self) -> dict[str, Any]:
        return {
            "delivery_id": self.delivery_id,
            "tenant_id": self.tenant_id,
            "subscription_id": self.subscription_id,
            "event_id": self.event_id,
            "event_type": self.event_type,
            "channel": self.channel.value,
            "target": self.target,
            "status": self.status.value,
            "attempts": self.attempts,
            "last_error": self.last_error,
            "digest": self.digest,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
        }


@dataclass(frozen=True, slots=True)
class Rendered:
    """A notification made from a template: what a channel sends."""

    subject: str
    body: str
    media_type: str = "text/plain"


@dataclass(frozen=True, slots=True)
class InboxMessage:
    message_id: str  # the delivery id: a redelivery stores nothing twice
    tenant_id: str
    principal: str
    event_type: str
    subject: str
    body: str
    created_at: str
    read_at: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "message_id": self.message_id,
            "event_type": self.event_type,
            "subject": self.subject,
            "body": self.body,
            "created_at": self.created_at,
            "read_at": self.read_at,
        }
