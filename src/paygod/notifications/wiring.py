"""Build the notification service and hang it on the executor (called by bootstrap)."""

from __future__ import annotations

from typing import Any

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from paygod.executor.worker import Worker
from paygod.kernel.clock import Clock
from paygod.kernel.database import Database
from paygod.kernel.settings import Settings
from paygod.ledger import EntryDraft, LedgerService
from paygod.notifications.channels.email import EmailChannel
from paygod.notifications.channels.inapp import InappChannel
from paygod.notifications.channels.webhook import WebhookChannel
from paygod.notifications.model import OWN_EVENT, Channel, InboxMessage
from paygod.notifications.ports import NotificationChannel, NotificationStore
from paygod.notifications.service import NotificationService
from paygod.notifications.stores.memory import MemoryNotificationStore
from paygod.notifications.stores.sql import SqlNotificationStore
from paygod.notifications.templates import Templates


class NotificationSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PAYGOD_", extra="ignore", frozen=True)

    smtp_url: str | None = Field(
        default=None, description="smtp://host:port, smtp+starttls://… or smtps://…"
    )
    smtp_from: str = "paygod@localhost"
    dev_mode: bool = False  # http webhooks to localhost allowed


def build_notifications(
    settings: Settings,
    db: Database | None,
    clock: Clock,
    ledger: LedgerService,
    worker: Worker,
    *,
    options: NotificationSettings | None = None,
) -> NotificationService:
    """`db` None: the memory store (tests on the memory ledger)."""
    options = options or NotificationSettings()
    store: NotificationStore = (
        SqlNotificationStore(db) if db is not None else MemoryNotificationStore()
    )

    def keep(message: InboxMessage) -> None:
        # Idempotent on the message id: a resent delivery stores nothing twice.
        def work(conn: Any) -> tuple[None, list[EntryDraft]]:
            store.add_message(conn, message)
            return None, []

        ledger.transact(work)

    channels: dict[Channel, NotificationChannel] = {
        Channel.WEBHOOK: WebhookChannel(clock),
        Channel.EMAIL: EmailChannel(options.smtp_url, options.smtp_from, clock),
        Channel.INAPP: InappChannel(keep),
    }
    service = NotificationService(
        ledger,
        store,
        clock,
        channels,
        Templates(settings.home / "notifications" / "templates"),
        max_attempts=worker.backoff.max_attempts,
        dev_mode=options.dev_mode,
    )
    worker.register(OWN_EVENT, service.deliver)
    worker.tap(service.wants, service.offer)
    return service
