"""The payment lifecycle end to end on memory adapters."""

from __future__ import annotations

import pytest

from paygod.kernel.errors import Conflict, Forbidden, InvalidInput, Rejected
from paygod.payments.model import PaymentStatus
from tests.unit.payments.support import US_BANK, world

# The worker's two ways of running a round: handlers in threads, or on its event loop.
DRIVES = pytest.mark.parametrize("on_loop", [False, True], ids=["threads", "loop"])


def transitions(w: object, payment_id: str) -> list[str]:
    return [h["transition"] for h in w.payments.history(payment_id)]  # type: ignore[attr-defined]


@DRIVES
def test_allowed_payment_is_held_dispatched_once_and_settled(on_loop: bool) -> None:
    w = world(on_loop=on_loop)
    payment = w.pay("k1")
    assert payment.status is PaymentStatus.HELD
    assert w.balance("agent-1").debits_pending == 12_500
    w.worker.drain()
    done = w.payments.get(payment.payment_id)
    assert done.status is PaymentStatus.SETTLED
    assert done.rail == "ach" and done.fee == 25
    assert w.rails["ach"].calls(payment.payment_id) == 1
    assert transitions(w, payment.payment_id) == [
        "requested", "decided", "held", "dispatching", "dispatched", "settled",
    ]  # fmt: skip
    account = w.balance("agent-1")
    assert account.debits_pending == 0 and account.debits_posted == 12_500
    events = [row["event_type"] for row in w.ledger.store.outbox]  # type: ignore[attr-defined]
    for expected in ("payment.initiated", "payment.decided", "payment.settled"):
        assert expected in events
    assert w.ledger.verify().findings == ()


def test_same_key_same_body_is_the_same_payment_and_different_body_conflicts() -> None:
    w = world()
    first = w.pay("k1")
    again = w.pay("k1")
    assert again.payment_id == first.payment_id
    with pytest.raises(Conflict):
        w.pay("k1", amount=999)


def test_denied_payment_never_holds_or_reaches_a_rail() -> None:
    w = world()
    payee = {**US_BANK, "name": "Evil"}
    payment = w.pay("k-deny", payee=payee)
    assert payment.status is PaymentStatus.DENIED
    w.worker.drain()
    assert sum(sum(r.all_calls().values()) for r in w.rails.values()) == 0
    assert w.balance("agent-1").debits_pending == 0
    events = [row["event_type"] for row in w.ledger.store.outbox]  # type: ignore[attr-defined]
    assert "risk.alert" in events


def test_review_needs_a_different_principal_and_the_approval_is_recorded() -> None:
    w = world()
    payment = w.pay("k-big", amount=5_000_000, by="maker")
    assert payment.status is PaymentStatus.DECIDED
    assert payment.decision is not None and payment.decision["verdict"] == "review"
    w.worker.drain()
    assert w.rails["ach"].calls(payment.payment_id) == 0
    with pytest.raises(Forbidden):
        w.payments.approve(payment.payment_id, approver="maker")
    approved = w.payments.approve(payment.payment_id, approver="checker", note="known vendor")
    assert approved.status is PaymentStatus.HELD
    assert approved.approvals[0]["by"] == "checker"
    w.worker.drain()
    assert w.payments.get(payment.payment_id).status is PaymentStatus.SETTLED
    assert "approved" in transitions(w, payment.payment_id)
    with pytest.raises(Conflict):
        w.payments.approve(payment.payment_id, approver="someone-else")


def test_rejected_review_fails_the_payment() -> None:
    w = world()
    payment = w.pay("k-big", amount=5_000_000, by="maker")
    rejected = w.payments.reject(payment.payment_id, approver="checker", note="no")
    assert rejected.status is PaymentStatus.REJECTED


def test_insufficient_funds_fail_the_payment_with_the_reason() -> None:
    from paygod.accounting import AccountCode, AccountFlags, AccountSpec

    w = world()
    w.accounting.open_account(
        "default",
        AccountSpec(
            ledger="USD",
            code=AccountCode.LIABILITY,
            id="agent-poor",
            flags=AccountFlags(debits_must_not_exceed_credits=True),
        ),
    )
    payment = w.pay("k-poor", payer_account="agent-poor")
    assert payment.status is PaymentStatus.FAILED
    assert payment.failure_reason
    w.worker.drain()
    assert sum(sum(r.all_calls().values()) for r in w.rails.values()) == 0


@DRIVES
def test_rail_failure_falls_back_to_the_next_rail_and_opens_the_circuit(on_loop: bool) -> None:
    w = world(failure_threshold=2, on_loop=on_loop)
    w.rails["ach"].down = True
    first = w.pay("k1")
    second = w.pay("k2")
    w.worker.drain()
    for payment in (first, second):
        done = w.payments.get(payment.payment_id)
        assert done.status is PaymentStatus.SETTLED
        assert done.rail == "instant"
        assert done.attempted_rails == ("ach", "instant")
    assert w.payments.breakers.get("ach").state.value == "open"
    third = w.pay("k3")
    w.worker.drain()
    assert w.payments.get(third.payment_id).attempted_rails == ("instant",)  # circuit skipped
    quote = w.payments.quote(amount=100, currency="USD", payee=US_BANK)
    assert next(o for o in quote.options if o.rail == "ach").reason.startswith("circuit open")


@DRIVES
def test_every_rail_down_retries_then_dead_letters(on_loop: bool) -> None:
    w = world(max_attempts=2, on_loop=on_loop)
    for rail in w.rails.values():
        rail.down = True
    payment = w.pay("k1")
    w.worker.drain()
    w.clock.advance(60)
    w.worker.drain()
    [dead] = w.outbox.list("dead")
    assert dead.aggregate_id == payment.payment_id
    assert "no rail took the payment" in (dead.last_error or "")
    # Operator fixes the rail and retries from the DLQ.
    for rail in w.rails.values():
        rail.down = False
    assert w.outbox.requeue(dead.event_id, now=w.clock.now())
    w.worker.drain()
    assert w.payments.get(payment.payment_id).status is PaymentStatus.SETTLED


@DRIVES
def test_panic_freezes_rails_but_not_decisions_and_off_drains_the_queue(on_loop: bool) -> None:
    w = world(on_loop=on_loop)
    w.panic.turn_on("fraud wave", "ops")
    payments = [w.pay(f"k{i}") for i in range(5)]
    assert all(p.status is PaymentStatus.HELD for p in payments)  # decided and sealed
    w.worker.drain()
    assert sum(sum(r.all_calls().values()) for r in w.rails.values()) == 0
    w.panic.turn_off("ops")
    w.worker.drain()
    assert all(w.payments.get(p.payment_id).status is PaymentStatus.SETTLED for p in payments)
    kinds = [e.kind for e in w.ledger.entries(limit=1000)]
    assert kinds.count("panic") == 2


@DRIVES
def test_crash_after_the_rail_call_does_not_send_twice(on_loop: bool) -> None:
    w = world(on_loop=on_loop)
    payment = w.pay("k1")
    original = w.payments._accepted

    def crash(*args: object) -> None:
        raise SystemExit("killed after the rail took the payment")

    w.payments._accepted = crash  # type: ignore[method-assign]
    with pytest.raises(SystemExit):
        w.worker.run_once()
    w.payments._accepted = original  # type: ignore[method-assign]
    w.clock.advance(60)  # the lease of the dead worker ends
    w.worker.drain()
    assert w.payments.get(payment.payment_id).status is PaymentStatus.SETTLED
    assert w.rails["ach"].calls(payment.payment_id) == 1


def test_async_settlement_callback_settles() -> None:
    import threading

    w = world()
    w.rails["ach"].settle_after = 0.01
    settled = threading.Event()
    w.rails["ach"].on_settlement(lambda notice: settled.set())
    payment = w.pay("k1")
    w.worker.drain()
    assert settled.wait(5)
    assert w.payments.get(payment.payment_id).status is PaymentStatus.SETTLED


@pytest.mark.parametrize(
    ("field", "value"),
    [("amount", 1.5), ("amount", True), ("amount", 0), ("currency", "usd"), ("payee", {})],
)
def test_bad_input_records_nothing(field: str, value: object) -> None:
    w = world()
    before = len(w.ledger.entries(limit=10_000))
    with pytest.raises(InvalidInput) as info:
        w.pay("k1", **{field: value})
    assert info.value.errors[0].pointer == f"/{field}"
    assert len(w.ledger.entries(limit=10_000)) == before


def test_no_eligible_rail_records_nothing() -> None:
    w = world()
    before = len(w.ledger.entries(limit=10_000))
    with pytest.raises(Rejected):
        w.pay("k1", currency="JPY")
    assert len(w.ledger.entries(limit=10_000)) == before


def test_a_payment_without_an_allowing_decision_is_never_dispatched() -> None:
    from dataclasses import replace

    w = world()
    payment = w.pay("k-review", amount=5_000_000, by="maker")  # review, not approved
    forged = replace(payment, status=PaymentStatus.HELD, hold_id="x", version=9)
    w.payments._write(lambda conn: ([(forged, "held", {}, [])], []))  # held without approval
    from paygod.executor.worker import PermanentFailure

    with pytest.raises(PermanentFailure):
        w.payments.dispatch(payment.payment_id)
    assert sum(sum(r.all_calls().values()) for r in w.rails.values()) == 0


def test_a_returned_payment_is_reversed_and_the_money_booked_back() -> None:
    from paygod.payments.model import SettlementNotice

    w = world()
    payment = w.pay("k1")
    w.worker.drain()
    assert w.balance("agent-1").debits_posted == 12_500
    done = w.payments.settle(
        SettlementNotice("ach", payment.payment_id, "reversed", detail="R01 insufficient funds")
    )
    assert done is not None and done.status is PaymentStatus.REVERSED
    account = w.balance("agent-1")
    assert account.credits_posted - account.debits_posted == 100_000_000  # whole again
    events = [row["event_type"] for row in w.ledger.store.outbox]  # type: ignore[attr-defined]
    assert "payment.reversed" in events


def test_a_dispatch_on_the_loop_waits_for_a_payment_changed_elsewhere() -> None:
    """An event loop must never block on a lock another thread holds: the dispatch is
    handed back (RetryLater) and goes through once the lock is free."""
    w = world(on_loop=True)
    payment = w.pay("k1")
    lock = w.payments._lock(payment.payment_id)
    with lock:
        report = w.worker.run_once()
        assert report.retried == 1
        assert w.rails["ach"].calls(payment.payment_id) == 0
    w.clock.advance(1)
    w.worker.drain()
    assert w.payments.get(payment.payment_id).status is PaymentStatus.SETTLED
    assert w.rails["ach"].calls(payment.payment_id) == 1


@pytest.mark.parametrize(("first", "second"), [("reject", "approve"), ("approve", "reject")])
def test_a_review_decided_in_another_process_meanwhile_is_409_and_records_nothing(
    first: str, second: str
) -> None:
    # Two API processes (serve --workers 2) each hold only their own payment lock: the
    # second checker read `decided` before the first one's verdict committed.
    w = world()
    payment = w.pay("k-big", amount=5_000_000, by="maker")
    reviewable = w.payments._reviewable
    raced: list[str] = []

    def other_process_decides_first(payment_id: str, checker: str, tenant: str | None) -> object:
        seen = reviewable(payment_id, checker, tenant)
        if not raced:
            raced.append(first)
            w.payments._locks.pop(payment_id)  # the other process has a lock of its own
            getattr(w.payments, first)(payment_id, approver="checker-2")
        return seen

    w.payments._reviewable = other_process_decides_first  # type: ignore[method-assign]
    size = w.ledger.size
    with pytest.raises(Conflict) as info:
        getattr(w.payments, second)(payment.payment_id, approver="checker-1")
    assert info.value.instance_code == "not-in-review"
    w.worker.drain()
    final = w.payments.get(payment.payment_id)
    reviews = [t for t in transitions(w, payment.payment_id) if t in ("approved", "rejected")]
    assert reviews == [{"reject": "rejected", "approve": "approved"}[first]]
    if first == "reject":
        assert final.status is PaymentStatus.REJECTED
        assert w.ledger.size == size + 1  # the rejection only
        assert sum(rail.calls(payment.payment_id) for rail in w.rails.values()) == 0
        assert w.balance("agent-1").debits_pending == 0
    else:
        assert final.status is PaymentStatus.SETTLED


def test_a_notice_another_process_recorded_meanwhile_is_not_recorded_twice() -> None:
    # Two API processes each hold only their own payment lock: both read `settled`, the
    # other process books the return first. Judged again on the new state, this notice is
    # a duplicate (200, the payment as it is), not a second reversal refunding twice.
    from paygod.payments.model import SettlementNotice

    w = world()
    payment = w.pay("k-returned")
    w.worker.drain()
    notice = SettlementNotice("ach", payment.payment_id, "reversed", detail="R01")
    find = w.payments.find
    raced: list[bool] = []

    def other_process_books_it_first(payment_id: str) -> object:
        seen = find(payment_id)
        if not raced:
            raced.append(True)
            w.payments._locks.pop(payment_id)  # the other process has a lock of its own
            w.payments.settle(notice)
        return seen

    w.payments.find = other_process_books_it_first  # type: ignore[method-assign]
    done = w.payments.settle(notice)
    assert done is not None and done.status is PaymentStatus.REVERSED
    assert transitions(w, payment.payment_id).count("reversed") == 1
    account = w.balance("agent-1")
    assert account.credits_posted - account.debits_posted == 100_000_000  # refunded once


def test_a_notice_from_a_rail_the_payment_was_never_sent_through_is_409() -> None:
    from paygod.payments.model import SettlementNotice

    w = world()
    payment = w.pay("k-wrong-rail")
    w.worker.drain()
    sent = w.payments.get(payment.payment_id)
    assert sent.status is PaymentStatus.SETTLED and sent.attempted_rails == ("ach",)
    size = w.ledger.size
    with pytest.raises(Conflict) as info:
        w.payments.settle(SettlementNotice("bogus", payment.payment_id, "reversed"))
    assert info.value.instance_code == "wrong-rail"
    assert w.ledger.size == size  # nothing recorded
    done = w.payments.settle(SettlementNotice("ach", payment.payment_id, "reversed"))
    assert done is not None and done.status is PaymentStatus.REVERSED
