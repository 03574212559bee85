"""The NotificationStore contract over memory, SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from paygod.kernel.database import PostgresDatabase, SqliteDatabase, migrate
from paygod.notifications.model import (
    Channel,
    Delivery,
    DeliveryStatus,
    InboxMessage,
    Subscription,
)
from paygod.notifications.ports import NotificationStore
from paygod.notifications.stores.memory import MemoryNotificationStore
from paygod.notifications.stores.sql import SqlNotificationStore


@pytest.fixture(params=["memory", "sqlite", "postgres"])
def setup(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[tuple[NotificationStore, Any]]:
    if request.param == "memory":
        yield MemoryNotificationStore(), contextmanager(lambda: iter([None]))
        return
    if request.param == "sqlite":
        db: Any = SqliteDatabase(tmp_path / "n.db")
    else:
        db = PostgresDatabase(request.getfixturevalue("postgres_url"))
    migrate(db)
    if request.param == "postgres":
        with db.connection() as conn:
            for table in (
                "notification_inbox",
                "notification_deliveries",
                "notification_subscriptions",
            ):
                conn.execute(f"DELETE FROM {table}")

    @contextmanager
    def tx() -> Iterator[Any]:
        if isinstance(db, SqliteDatabase):
            conn = db.connection()
            with conn:
                yield conn
        else:
            with db.connection() as conn, conn.transaction():
                yield conn

    yield SqlNotificationStore(db), tx
    db.close()


def _sub(sid: str, tenant: str = "t1") -> Subscription:
    return Subscription(sid, tenant, Channel.WEBHOOK, "https://h.example/x", ("credit.*",),
                        "2026-01-01T00:00:00Z", "admin", secret="whsec_AAAA")  # fmt: skip


def _delivery(did: str, tenant: str = "t1") -> Delivery:
    return Delivery(did, tenant, "s1", "e1", "credit.approved", Channel.WEBHOOK, "https://h.example/x",
                    DeliveryStatus.PENDING, 0, "2026-01-01T00:00:00Z", "2026-01-01T00:00:00Z",
                    event={"event_id": "e1"})  # fmt: skip


def test_subscriptions(setup: tuple[NotificationStore, Any]) -> None:
    store, tx = setup
    with tx() as conn:
        store.put_subscription(conn, _sub("s1"))
        store.put_subscription(conn, _sub("s2", "t2"))
    assert store.subscription("t1", "s1") == _sub("s1")
    assert store.subscription("t2", "s1") is None
    assert [s.subscription_id for s in store.subscriptions(None)] == ["s1", "s2"]
    with tx() as conn:
        assert not store.delete_subscription(conn, "t2", "s1")
        assert store.delete_subscription(conn, "t1", "s1")
    assert store.subscriptions("t1") == []


def test_deliveries_are_added_once_and_updated(setup: tuple[NotificationStore, Any]) -> None:
    store, tx = setup
    with tx() as conn:
        assert store.add_delivery(conn, _delivery("d1"))
        assert not store.add_delivery(conn, _delivery("d1"))
    with tx() as conn:
        store.update_delivery(
            conn,
            "d1",
            status=DeliveryStatus.DEAD,
            attempts=5,
            last_error="HTTP 500",
            digest=None,
            at="2026-01-02T00:00:00Z",
        )
    found = store.delivery("d1")
    assert found is not None and found.status is DeliveryStatus.DEAD and found.attempts == 5
    assert found.event == {"event_id": "e1"}
    assert [d.delivery_id for d in store.deliveries("t1", status="dead")] == ["d1"]
    assert store.deliveries("t2") == [] and store.deliveries("t1", status="sent") == []


def test_inbox(setup: tuple[NotificationStore, Any]) -> None:
    store, tx = setup
    message = InboxMessage("m1", "t1", "p1", "case.opened", "s", "b", "2026-01-01T00:00:00Z")
    with tx() as conn:
        store.add_message(conn, message)
        store.add_message(conn, message)
    assert store.inbox("t1", "p1") == [message]
    assert store.inbox("t1", "p2") == [] and store.inbox("t2", "p1") == []
    with tx() as conn:
        assert not store.mark_read(conn, "t1", "p2", "m1", "2026-01-03T00:00:00Z")
        assert store.mark_read(conn, "t1", "p1", "m1", "2026-01-03T00:00:00Z")
    assert store.inbox("t1", "p1", unread=True) == []
    assert store.inbox("t1", "p1")[0].read_at == "2026-01-03T00:00:00Z"
