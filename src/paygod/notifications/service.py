"""The notification service: subscriptions, fan-out of outbox events, delivery, the inbox.

An outbox event of a type some subscription wants is offered here (`offer`, an executor tap):
one delivery per matching subscription is recorded with a `notification.deliver` outbox event,
all in one ledger transaction (a `notification.queued` entry). The executor then runs each
delivery (`deliver`) with its usual retries, backoff and dead-letter queue; the delivery row
keeps the attempt count, the last error and the status, and the ledger gets a
`notification.delivered` (with the digest of the bytes sent) or `notification.dead` entry.
Delivery ids derive from (event id, subscription id), so a re-offered event queues nothing
twice and receivers can deduplicate on `webhook-id` / Message-ID.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Mapping
from typing import Any

from paygod.canonical import sha256_hex
from paygod.executor.model import OutboxMessage
from paygod.executor.worker import PermanentFailure
from paygod.kernel.clock import Clock, isoformat
from paygod.kernel.errors import FieldError, InvalidInput, NotFound
from paygod.kernel.events import EventEnvelope
from paygod.kernel.record_ids import new_id
from paygod.ledger import EntryDraft, LedgerService
from paygod.notifications.channels.webhook import new_secret
from paygod.notifications.errors import NotificationCode
from paygod.notifications.model import (
    OWN_EVENT,
    Channel,
    Delivery,
    DeliveryStatus,
    InboxMessage,
    Subscription,
    pattern_problem,
)
from paygod.notifications.ports import NotificationChannel, NotificationStore, SendFailed
from paygod.notifications.targets import is_local, target_errors
from paygod.notifications.templates import TemplateProblem, Templates

MAX_EVENT_TYPES = 32
# How long another process's subscription change may go unseen by this one's `wants`.
REFRESH_SECONDS = 5.0
TEST_EVENT = "notification.test"


def subscription_subject(subscription_id: str) -> str:
    return f"notification:subscription:{subscription_id}"


def _digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


class NotificationService:
    def __init__(
        self,
        ledger: LedgerService,
        store: NotificationStore,
        clock: Clock,
        channels: Mapping[Channel, NotificationChannel],
        templates: Templates,
        *,
        max_attempts: int,
        dev_mode: bool = False,
    ) -> None:
        self.ledger = ledger
        self.store = store
        self.clock = clock
        self.channels = dict(channels)
        self.templates = templates
        self.max_attempts = max_attempts
        self.dev_mode = dev_mode
        self._lock = threading.Lock()
        self._patterns: tuple[str, ...] = ()
        self._wanted: dict[str, bool] = {}
        self._loaded_at = float("-inf")
        self._refreshing = False

    # -- subscriptions -------------------------------------------------------------------

    def subscribe(
        self,
        tenant_id: str,
        *,
        channel: Any,
        target: Any,
        event_types: Any,
        allow_private: Any = False,
        actor: str,
    ) -> tuple[Subscription, str | None]:
        """Record a subscription; returns it and, for a webhook, its signing secret (shown
        once: it is never returned again)."""
        errors: list[FieldError] = []
        if channel not in {c.value for c in Channel}:
            errors.append(FieldError("/channel", "must be webhook, email or inapp"))
        if not isinstance(allow_private, bool):
            errors.append(FieldError("/allow_private", "expected true or false"))
        if not isinstance(event_types, list) or not 1 <= len(event_types) <= MAX_EVENT_TYPES:
            errors.append(FieldError("/event_types", f"expected 1 to {MAX_EVENT_TYPES} types"))
        else:
            for i, pattern in enumerate(event_types):
                if problem := pattern_problem(pattern):
                    errors.append(FieldError(f"/event_types/{i}", problem))
        if not errors:
            errors.extend(
                target_errors(
                    Channel(channel),
                    target,
                    allow_private=bool(allow_private),
                    dev_mode=self.dev_mode,
                )
            )
        if errors:
            raise InvalidInput("invalid subscription", errors=errors)
        kind = Channel(channel)
        secret = new_secret() if kind is Channel.WEBHOOK else None
        subscription = Subscription(
            subscription_id=new_id(),
            tenant_id=tenant_id,
            channel=kind,
            target=str(target),
            event_types=tuple(dict.fromkeys(event_types)),
            created_at=isoformat(self.clock.now()),
            created_by=actor,
            # A dev-mode localhost webhook is private by nature: sending to it is allowed.
            allow_private=bool(allow_private) or (self.dev_mode and is_local(str(target))),
            secret=secret,
        )
        draft = EntryDraft(
            "notification.subscribed",
            subscription_subject(subscription.subscription_id),
            self._sealed(subscription),
            tenant_id=tenant_id,
        )

        def work(conn: Any) -> tuple[None, list[EntryDraft]]:
            self.store.put_subscription(conn, subscription)
            return None, [draft]

        self.ledger.transact(work)
        self._forget()
        return subscription, secret

    @staticmethod
    def _sealed(subscription: Subscription) -> dict[str, Any]:
        """The ledger's copy: an e-mail address is personal data, sealed as a digest only."""
        doc = subscription.as_dict()
        if subscription.channel is Channel.EMAIL:
            doc["target"] = "sha256:" + sha256_hex(subscription.target)
        return doc

    def unsubscribe(self, tenant_id: str, subscription_id: str, *, actor: str) -> Subscription:
        subscription = self.subscription(tenant_id, subscription_id)
        draft = EntryDraft(
            "notification.unsubscribed",
            subscription_subject(subscription_id),
            {"subscription_id": subscription_id, "actor": actor, "at": isoformat(self.clock.now())},
            tenant_id=tenant_id,
        )

        def work(conn: Any) -> tuple[None, list[EntryDraft]]:
            if not self.store.delete_subscription(conn, tenant_id, subscription_id):
                raise NotFound(f"no subscription {subscription_id}")
            return None, [draft]

        self.ledger.transact(work)
        self._forget()
        return subscription

    def subscription(self, tenant_id: str, subscription_id: str) -> Subscription:
        found = self.store.subscription(tenant_id, subscription_id)
        if found is None:
            raise NotFound(
                f"no subscription {subscription_id}", code=NotificationCode.SUBSCRIPTION_NOT_FOUND
            )
        return found

    def subscriptions(self, tenant_id: str) -> list[Subscription]:
        return self.store.subscriptions(tenant_id)

    # -- which events are offered ----------------------------------------------------------

    def _forget(self) -> None:
        """A subscription changed here: reload now, on the caller's thread (after commit)."""
        self._reload()

    def wants(self, event_type: str) -> bool:
        """Whether any tenant subscribes to `event_type`: a dict lookup once known, so event
        types nobody subscribed to cost nothing (their outbox rows are done when written).
        It runs on the ledger's write path, so it never waits for the database there: a
        stale cache (another process's change) is refreshed on a thread of its own."""
        if self._loaded_at == float("-inf"):
            self._reload()
        elif time.monotonic() - self._loaded_at > REFRESH_SECONDS:
            self._refresh_soon()
        known = self._wanted.get(event_type)
        if known is None:
            probe = Subscription("", "", Channel.INAPP, "", self._patterns, "", "")
            known = self._wanted[event_type] = probe.wants(event_type)
        return known

    def _refresh_soon(self) -> None:
        with self._lock:
            if self._refreshing:
                return
            self._refreshing = True
        threading.Thread(target=self._reload, name="notifications-refresh", daemon=True).start()

    def _reload(self) -> None:
        try:
            patterns = {p for s in self.store.subscriptions(None) for p in s.event_types}
        finally:
            with self._lock:
                self._refreshing = False
        with self._lock:
            self._patterns = tuple(sorted(patterns))
            self._wanted = {}
            self._loaded_at = time.monotonic()

    # -- fan-out -------------------------------------------------------------------------

    def offer(self, message: OutboxMessage) -> None:
        """Queue a delivery per subscription of the event's tenant that wants it."""
        if message.event_type == OWN_EVENT:
            return
        wanting = [
            s for s in self.store.subscriptions(message.tenant_id) if s.wants(message.event_type)
        ]
        if wanting:
            self._queue(message.envelope, wanting)

    def _queue(self, event: Mapping[str, Any], subscriptions: list[Subscription]) -> list[str]:
        now = self.clock.now()
        at = isoformat(now)
        event_id, event_type = str(event["event_id"]), str(event["event_type"])
        tenant_id = str(event.get("tenant_id") or subscriptions[0].tenant_id)
        deliveries = [
            Delivery(
                delivery_id="ntf_" + sha256_hex([event_id, s.subscription_id])[:32],
                tenant_id=tenant_id,
                subscription_id=s.subscription_id,
                event_id=event_id,
                event_type=event_type,
                channel=s.channel,
                target=s.target,
                status=DeliveryStatus.PENDING,
                attempts=0,
                created_at=at,
                updated_at=at,
                event={k: event.get(k) for k in _RENDERED},
            )
            for s in subscriptions
        ]

        def work(conn: Any) -> tuple[list[str], list[EntryDraft]]:
            queued = [d for d in deliveries if self.store.add_delivery(conn, d)]
            if not queued:
                return [], []
            events = tuple(
                EventEnvelope(
                    event_type=OWN_EVENT,
                    aggregate_id=d.delivery_id,
                    aggregate_type="notification",
                    tenant_id=tenant_id,
                    payload={"delivery_id": d.delivery_id},
                    occurred_at=now,
                    recorded_at=now,
                    causation_id=event_id,
                )
                for d in queued
            )
            payload = {
                "event_id": event_id,
                "event_type": event_type,
                "deliveries": [
                    {"delivery_id": d.delivery_id, "subscription_id": d.subscription_id}
                    for d in queued
                ],
            }
            draft = EntryDraft(
                "notification.queued",
                f"notification:event:{event_id}",
                payload,
                tenant_id=tenant_id,
                events=events,
            )
            return [d.delivery_id for d in queued], [draft]

        ids, _ = self.ledger.transact(work)
        return list(ids)

    def test(self, tenant_id: str, subscription_id: str, *, actor: str) -> Delivery:
        """Queue a `notification.test` event to one subscription (whatever its types)."""
        subscription = self.subscription(tenant_id, subscription_id)
        now = isoformat(self.clock.now())
        event = {
            "event_id": new_id(),
            "event_type": TEST_EVENT,
            "aggregate_type": "notification_subscription",
            "aggregate_id": subscription_id,
            "tenant_id": tenant_id,
            "occurred_at": now,
            "payload": {"subscription_id": subscription_id, "requested_by": actor},
        }
        ids = self._queue(event, [subscription])
        return self.delivery(tenant_id, ids[0])

    # -- delivery ------------------------------------------------------------------------

    def deliver(self, message: OutboxMessage) -> None:
        """The `notification.deliver` handler. Raises for the executor to retry or bury."""
        delivery_id = str(message.payload.get("delivery_id", ""))
        delivery = self.store.delivery(delivery_id)
        if delivery is None:
            raise PermanentFailure(f"no delivery {delivery_id}")
        if delivery.status is DeliveryStatus.SENT:
            return  # sent already: a redelivered message does nothing
        # A dead delivery seen again was requeued from the DLQ by an operator: try again.
        attempt = max(message.attempts, delivery.attempts + 1)
        subscription = self.store.subscription(delivery.tenant_id, delivery.subscription_id)
        if subscription is None:
            self._finish(delivery, attempt, DeliveryStatus.DEAD, "unsubscribed", None)
            return
        try:
            rendered = self.templates.render(delivery.channel, delivery.event)
            sent = self.channels[delivery.channel].send(delivery, subscription, rendered)
        except (TemplateProblem, SendFailed) as exc:
            permanent = isinstance(exc, TemplateProblem) or getattr(exc, "permanent", False)
            if permanent or attempt >= self.max_attempts:
                self._finish(delivery, attempt, DeliveryStatus.DEAD, str(exc), None)
                raise PermanentFailure(str(exc)) from None
            self._attempted(delivery, attempt, str(exc))
            raise
        self._finish(delivery, attempt, DeliveryStatus.SENT, None, _digest(sent))

    def _attempted(self, delivery: Delivery, attempt: int, error: str) -> None:
        at = isoformat(self.clock.now())

        def work(conn: Any) -> tuple[None, list[EntryDraft]]:
            self.store.update_delivery(
                conn,
                delivery.delivery_id,
                status=DeliveryStatus.PENDING,
                attempts=attempt,
                last_error=error[:500],
                digest=None,
                at=at,
            )
            return None, []

        self.ledger.transact(work)

    def _finish(
        self,
        delivery: Delivery,
        attempt: int,
        status: DeliveryStatus,
        error: str | None,
        digest: str | None,
    ) -> None:
        at = isoformat(self.clock.now())
        kind = "notification.delivered" if status is DeliveryStatus.SENT else "notification.dead"
        payload = {
            "delivery_id": delivery.delivery_id,
            "subscription_id": delivery.subscription_id,
            "event_id": delivery.event_id,
            "event_type": delivery.event_type,
            "channel": delivery.channel.value,
            "attempts": attempt,
            "digest": digest,
            "error": error[:500] if error else None,
            "at": at,
        }
        draft = EntryDraft(
            kind,
            f"notification:delivery:{delivery.delivery_id}",
            payload,
            tenant_id=delivery.tenant_id,
        )

        def work(conn: Any) -> tuple[None, list[EntryDraft]]:
            self.store.update_delivery(
                conn,
                delivery.delivery_id,
                status=status,
                attempts=attempt,
                last_error=error[:500] if error else None,
                digest=digest,
                at=at,
            )
            return None, [draft]

        self.ledger.transact(work)

    def delivery(self, tenant_id: str, delivery_id: str) -> Delivery:
        found = self.store.delivery(delivery_id)
        if found is None or found.tenant_id != tenant_id:
            raise NotFound(f"no delivery {delivery_id}", code=NotificationCode.DELIVERY_NOT_FOUND)
        return found

    def deliveries(self, tenant_id: str, status: str | None = None) -> list[Delivery]:
        if status is not None and status not in {s.value for s in DeliveryStatus}:
            raise InvalidInput(
                "invalid status",
                errors=[FieldError("/status", "must be pending, sent or dead")],
            )
        return self.store.deliveries(tenant_id, status=status)

    # -- in-app inbox ----------------------------------------------------------------------

    def inbox(self, tenant_id: str, principal: str, *, unread: bool = False) -> list[InboxMessage]:
        return self.store.inbox(tenant_id, principal, unread=unread)

    def mark_read(self, tenant_id: str, principal: str, message_id: str) -> None:
        at = isoformat(self.clock.now())
        done, _ = self.ledger.transact(
            lambda conn: (self.store.mark_read(conn, tenant_id, principal, message_id, at), [])
        )
        if not done:
            raise NotFound(
                f"no message {message_id} in your inbox", code=NotificationCode.MESSAGE_NOT_FOUND
            )


# What a delivery keeps of its event to render it (the envelope, less tracing headers).
_RENDERED = (
    "event_id",
    "event_type",
    "aggregate_type",
    "aggregate_id",
    "tenant_id",
    "occurred_at",
    "payload",
)
