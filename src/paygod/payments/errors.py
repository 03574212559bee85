"""The payments module's error codes and its named errors."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, ClassVar

from paygod.kernel.errors import Conflict

if TYPE_CHECKING:
    from paygod.payments.signing import WebhookReason


class PaymentCode(StrEnum):
    PAYMENT_IN_FLIGHT = "payment-in-flight"
    PAYMENT_BUSY = "payment-busy"
    NOT_IN_REVIEW = "not-in-review"
    NOT_DISPATCHED = "not-dispatched"
    NOTICE_CONTRADICTS_STATE = "notice-contradicts-state"
    WRONG_RAIL = "wrong-rail"
    UNKNOWN_RAIL = "unknown-rail"
    NO_ELIGIBLE_RAIL = "no-eligible-rail"
    # A signed webhook refused (a rail's settlement notice, a KYC provider's callback).
    WEBHOOK_REJECTED = "webhook-rejected"
    WEBHOOK_MALFORMED = "webhook-malformed"
    WEBHOOK_OVERSIZED = "webhook-oversized"
    WEBHOOK_BAD_SIGNATURE = "webhook-bad-signature"
    WEBHOOK_STALE = "webhook-stale"
    WEBHOOK_REPLAYED = "webhook-replayed"


def webhook_code(reason: WebhookReason) -> PaymentCode:
    """The code of a `WebhookRejected` reason (`bad_signature` -> `webhook-bad-signature`)."""
    return PaymentCode(f"webhook-{reason.replace('_', '-')}")


class NotInReview(Conflict):
    """Only a payment held for review can be approved or rejected."""

    code: ClassVar[StrEnum] = PaymentCode.NOT_IN_REVIEW


class NotDispatched(Conflict):
    """The payment was never sent to its rail, so the rail cannot have settled or failed it."""

    code: ClassVar[StrEnum] = PaymentCode.NOT_DISPATCHED
