"""Notifications end to end on a real kernel (SQLite): an outbox event reaches an inbox, a
real SMTP server (aiosmtpd) and a real HTTP receiver; failures retry with backoff and end in
the dead-letter queue; what was sent is sealed as a digest."""

from __future__ import annotations

import hashlib
import socket
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest

from paygod.bootstrap import Kernel, build_kernel
from paygod.executor.backoff import Backoff
from paygod.kernel.clock import ManualClock
from paygod.kernel.errors import InvalidInput
from paygod.notifications.channels.email import EmailChannel
from paygod.notifications.channels.webhook import verify
from paygod.notifications.model import Channel, DeliveryStatus

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def kernel(paygod_home: Path) -> Iterator[tuple[Kernel, ManualClock]]:
    clock = ManualClock(T0)
    built = build_kernel(clock=clock)
    object.__setattr__(built.executor, "backoff", Backoff(initial=1.0, jitter=0.0))
    try:
        yield built, clock
    finally:
        built.close()


def _open_case(k: Kernel, tenant: str = "default") -> None:
    k.cases.open_manual(
        tenant, subject="acct:42", alert_type="velocity", note="looks odd", actor="officer-1"
    )


def test_inapp_message_reaches_the_inbox_once(kernel: tuple[Kernel, ManualClock]) -> None:
    k, _ = kernel
    _sub, secret = k.notifications.subscribe(
        "default", channel="inapp", target="officer-2", event_types=["case.*"], actor="admin"
    )
    assert secret is None and k.notifications.wants("case.opened")
    assert not k.notifications.wants("payment.settled")
    _open_case(k)
    k.executor.drain()
    inbox = k.notifications.inbox("default", "officer-2")
    assert len(inbox) == 1 and inbox[0].event_type == "case.opened"
    assert k.notifications.inbox("other", "officer-2") == []
    [delivery] = k.notifications.deliveries("default")
    assert delivery.status is DeliveryStatus.SENT and delivery.attempts == 1
    assert delivery.digest and delivery.digest.startswith("sha256:")
    k.notifications.mark_read("default", "officer-2", inbox[0].message_id)
    assert k.notifications.inbox("default", "officer-2", unread=True) == []
    # The event offered again (a redelivered outbox row) queues nothing new.
    k.executor.drain()
    assert len(k.notifications.deliveries("default")) == 1


def test_email_over_a_real_smtp_server(kernel: tuple[Kernel, ManualClock]) -> None:
    aiosmtpd = pytest.importorskip("aiosmtpd.controller")
    from aiosmtpd.handlers import Sink

    received: list[bytes] = []

    class Keep(Sink):
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            received.append(envelope.content)
            return "250 OK"

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = aiosmtpd.Controller(Keep(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        k, _ = kernel
        k.notifications.channels[Channel.EMAIL] = EmailChannel(
            f"smtp://127.0.0.1:{port}", "paygod@bank.example", k.clock
        )
        k.notifications.subscribe(
            "default", channel="email", target="ops@bank.example", event_types=["case.opened"],
            actor="admin",
        )  # fmt: skip
        _open_case(k)
        k.executor.drain()
    finally:
        controller.stop()
    assert len(received) == 1 and b"Subject: [Paygod] case.opened" in received[0]
    [delivery] = k.notifications.deliveries("default")
    assert delivery.status is DeliveryStatus.SENT
    # The ledger keeps the digest, never the address or the body.
    sealed = [e for e in k.ledger.history(f"notification:delivery:{delivery.delivery_id}")]
    assert sealed[-1].kind == "notification.delivered"
    assert sealed[-1].payload["digest"] == delivery.digest
    subscribed = k.ledger.history(f"notification:subscription:{delivery.subscription_id}")
    assert "ops@bank.example" not in str(subscribed[0].payload)


class _Receiver(BaseHTTPRequestHandler):
    status = 204
    seen: ClassVar[list[tuple[dict[str, str], bytes]]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["content-length"]))
        type(self).seen.append(({k.lower(): v for k, v in self.headers.items()}, body))
        self.send_response(type(self).status)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[tuple[type[_Receiver], int]]:
    handler = type("Receiver", (_Receiver,), {"seen": [], "status": 204})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield handler, server.server_address[1]
    server.shutdown()


def test_signed_webhook_then_retries_then_dead_letter(
    kernel: tuple[Kernel, ManualClock], receiver: tuple[type[_Receiver], int]
) -> None:
    k, clock = kernel
    handler, port = receiver
    url = f"http://127.0.0.1:{port}/hook"
    with pytest.raises(InvalidInput) as refused:
        k.notifications.subscribe(
            "default", channel="webhook", target=url, event_types=["case.*"], actor="a"
        )
    assert refused.value.errors[0].pointer == "/target"
    k.notifications.dev_mode = True  # http to localhost: dev mode only
    _sub, secret = k.notifications.subscribe(
        "default", channel="webhook", target=url, event_types=["case.*"], actor="a"
    )
    assert secret and secret.startswith("whsec_")
    _open_case(k)
    k.executor.drain()
    headers, body = handler.seen[0]
    assert verify(secret, headers, body)
    assert not verify(secret, headers, body + b" ")
    [sent] = k.notifications.deliveries("default")
    assert sent.digest == "sha256:" + hashlib.sha256(body).hexdigest()
    assert headers["webhook-id"] == sent.delivery_id

    handler.status = 500
    k.cases.open_manual("default", subject="acct:43", alert_type="geo", note="n", actor="o")
    for _ in range(8):
        k.executor.drain()
        clock.advance(120)
    failing = [
        d for d in k.notifications.deliveries("default") if d.delivery_id != sent.delivery_id
    ]
    assert len(failing) == 1 and failing[0].status is DeliveryStatus.DEAD
    assert failing[0].attempts == k.executor.backoff.max_attempts
    assert failing[0].last_error == "HTTP 500"
    dead = k.executor.store.list("dead")
    assert [m.aggregate_id for m in dead] == [failing[0].delivery_id]
    # The receiver is fixed; an operator requeues the dead letter and it is delivered.
    handler.status = 204
    assert k.executor.store.requeue(dead[0].event_id, now=clock.now())
    k.executor.drain()
    again = k.notifications.delivery("default", failing[0].delivery_id)
    assert again.status is DeliveryStatus.SENT and again.last_error is None


def test_subscription_refusals_record_nothing(kernel: tuple[Kernel, ManualClock]) -> None:
    k, _ = kernel
    cases = [
        ({"channel": "pager", "target": "x", "event_types": ["a"]}, "/channel"),
        ({"channel": "email", "target": "not-an-address", "event_types": ["a"]}, "/target"),
        ({"channel": "inapp", "target": "p1", "event_types": ["Credit.*x"]}, "/event_types/0"),
        ({"channel": "inapp", "target": "p1", "event_types": []}, "/event_types"),
        ({"channel": "webhook", "target": "https://10.0.0.1/x", "event_types": ["a"]}, "/target"),
    ]
    before = k.ledger.size
    for body, pointer in cases:
        with pytest.raises(InvalidInput) as refused:
            k.notifications.subscribe("default", actor="a", **body)
        assert refused.value.errors[0].pointer == pointer
    assert k.notifications.subscriptions("default") == []
    assert k.ledger.size == before
