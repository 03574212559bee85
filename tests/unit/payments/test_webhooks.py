"""Inbound settlement webhooks: verified ones settle; tampered, replayed, stale, oversized
and unknown-rail deliveries are refused and counted, and record nothing (D8)."""

from __future__ import annotations

import orjson
import pytest

from paygod.kernel.errors import Conflict, InvalidInput, NotFound, Unauthorized
from paygod.payments.model import PaymentStatus
from paygod.payments.signing import sign
from tests.unit.payments.support import SECRET, world


def dispatched_payment():  # type: ignore[no-untyped-def]
    w = world()
    w.rails["ach"].settle_after = 3600  # settlement will come by webhook, not the timer
    payment = w.pay("k1")
    w.worker.drain()
    assert w.payments.get(payment.payment_id).status is PaymentStatus.DISPATCHED
    return w, payment


def rejected_entries(w) -> list[dict]:  # type: ignore[no-untyped-def]
    return [e.payload for e in w.ledger.entries(limit=1000) if e.kind == "webhook.rejected"]


def refused(w) -> dict[tuple[str, str], int]:  # type: ignore[no-untyped-def]
    return dict(w.payments.refusals.counts())


def test_signed_webhook_settles() -> None:
    w, payment = dispatched_payment()
    body = orjson.dumps({"idempotency_key": payment.payment_id, "status": "settled"})
    now = int(w.clock.now().timestamp())
    w.payments.receive_webhook("ach", sign(SECRET, body, timestamp=now), body)
    assert w.payments.get(payment.payment_id).status is PaymentStatus.SETTLED


@pytest.mark.parametrize("attack", ["tampered", "stale", "unsigned", "wrong-secret"])
def test_bad_webhooks_are_refused_counted_and_not_recorded(attack: str) -> None:
    w, payment = dispatched_payment()
    body = orjson.dumps({"idempotency_key": payment.payment_id, "status": "settled"})
    now = int(w.clock.now().timestamp())
    header: str | None = sign(SECRET, body, timestamp=now)
    if attack == "tampered":
        body = body.replace(b"settled", b"failed")
    elif attack == "stale":
        header = sign(SECRET, body, timestamp=now - 3600)
    elif attack == "unsigned":
        header = None
    else:
        header = sign(b"guess", body, timestamp=now)
    size = w.ledger.size
    with pytest.raises(Unauthorized):
        w.payments.receive_webhook("ach", header, body)
    assert w.payments.get(payment.payment_id).status is PaymentStatus.DISPATCHED
    assert w.ledger.size == size and rejected_entries(w) == []
    expected = {"tampered": "bad_signature", "stale": "stale", "unsigned": "malformed"}
    assert refused(w) == {("ach", expected.get(attack, "bad_signature")): 1}


def test_replayed_webhook_is_refused_and_counted() -> None:
    w, payment = dispatched_payment()
    body = orjson.dumps({"idempotency_key": payment.payment_id, "status": "settled"})
    header = sign(SECRET, body, timestamp=int(w.clock.now().timestamp()))
    w.payments.receive_webhook("ach", header, body)
    with pytest.raises(Unauthorized) as info:
        w.payments.receive_webhook("ach", header, body)
    assert info.value.instance_code == "webhook-replayed"
    assert rejected_entries(w) == []
    assert refused(w) == {("ach", "replayed"): 1}


@pytest.mark.parametrize(
    "rail", ["bogus", "\u202ex\nrail", "ACH", "ach ", "wire" * 100, "", "../ach"]
)
def test_a_rail_not_configured_is_404_before_anything_is_read_or_recorded(rail: str) -> None:
    w, payment = dispatched_payment()
    body = orjson.dumps({"idempotency_key": payment.payment_id, "status": "settled"})
    # Even a correctly signed notice: the path's rail is not covered by the signature.
    header = sign(SECRET, body, timestamp=int(w.clock.now().timestamp()))
    size = w.ledger.size
    with pytest.raises(NotFound):
        w.payments.receive_webhook(rail, header, body)
    assert w.ledger.size == size
    assert refused(w) == {("unknown", "unknown_rail"): 1}  # the path's text is no label
    assert w.payments.get(payment.payment_id).status is PaymentStatus.DISPATCHED


@pytest.mark.parametrize("size", [513, 60_000])
def test_an_oversized_signature_header_is_refused_unparsed(size: int) -> None:
    w, payment = dispatched_payment()
    body = orjson.dumps({"idempotency_key": payment.payment_id, "status": "settled"})
    good = sign(SECRET, body, timestamp=int(w.clock.now().timestamp()))
    header = good + "," + "v1=" + "A" * (size - len(good) - 4)
    assert len(header) == size
    with pytest.raises(Unauthorized) as info:
        w.payments.receive_webhook("ach", header, body)
    assert info.value.instance_code == "webhook-oversized"
    assert refused(w) == {("ach", "oversized"): 1}
    assert rejected_entries(w) == []


def notify(w, payment, status: str, n: int = 0):  # type: ignore[no-untyped-def]
    # `n` makes otherwise equal bodies distinct messages (the replay guard keys on them).
    body = orjson.dumps(
        {"idempotency_key": payment.payment_id, "status": status, "reference": f"r{n}"}
    )
    header = sign(SECRET, body, timestamp=int(w.clock.now().timestamp()))
    return w.payments.receive_webhook("ach", header, body)


@pytest.mark.parametrize(
    ("path", "contradiction"),
    [
        (["failed"], "settled"),
        (["failed"], "reversed"),
        (["settled"], "failed"),
        (["settled", "reversed"], "failed"),
    ],
)
def test_a_notice_that_contradicts_a_finished_payment_is_409_and_changes_nothing(
    path: list[str], contradiction: str
) -> None:
    w, payment = dispatched_payment()
    for n, status in enumerate(path):
        notify(w, payment, status, n)
    state = w.payments.get(payment.payment_id)
    size = w.ledger.size
    with pytest.raises(Conflict) as info:
        notify(w, payment, contradiction, 99)
    assert info.value.instance_code == "notice-contradicts-state"
    assert w.payments.get(payment.payment_id) == state
    assert w.ledger.size == size


@pytest.mark.parametrize(
    ("path", "late"),
    [
        (["settled"], "settled"),
        (["failed"], "failed"),
        (["settled", "reversed"], "settled"),
        (["settled", "reversed"], "reversed"),
    ],
)
def test_a_duplicate_or_late_notice_is_answered_with_the_payment(
    path: list[str], late: str
) -> None:
    w, payment = dispatched_payment()
    for n, status in enumerate(path):
        notify(w, payment, status, n)
    state = w.payments.get(payment.payment_id)
    size = w.ledger.size
    assert notify(w, payment, late, 99) == state
    assert w.ledger.size == size


def test_a_webhook_without_a_payment_id_points_at_the_id() -> None:
    w, _payment = dispatched_payment()
    body = orjson.dumps({"idempotency_key": 5, "status": "settled"})
    header = sign(SECRET, body, timestamp=int(w.clock.now().timestamp()))
    with pytest.raises(InvalidInput) as info:
        w.payments.receive_webhook("ach", header, body)
    assert [e.pointer for e in info.value.errors] == ["/idempotency_key"]
