"""The notifications module's error codes."""

from __future__ import annotations

from enum import StrEnum


class NotificationCode(StrEnum):
    SUBSCRIPTION_NOT_FOUND = "subscription-not-found"
    DELIVERY_NOT_FOUND = "delivery-not-found"
    MESSAGE_NOT_FOUND = "message-not-found"
