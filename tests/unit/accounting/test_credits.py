"""Credits (quota): purchase, consume, reserve → commit/cancel/expire, 402, alerts."""

from __future__ import annotations

import pytest

from paygod.accounting.credits import CreditsService
from paygod.kernel.clock import ManualClock
from paygod.kernel.errors import InvalidInput, NotFound, PaymentRequired, Rejected
from tests.unit.accounting.support import START, memory_service


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
def credits(clock: ManualClock) -> CreditsService:
    return CreditsService(memory_service(clock))


def test_purchase_consume_and_402(credits: CreditsService) -> None:
    assert credits.balance("acme").balance == 0
    credits.purchase("acme", 100, key="order-1")
    credits.purchase("acme", 100, key="order-1")  # retried: charged once
    assert credits.balance("acme").balance == 100
    credits.consume("acme", 30, key="call-1")
    with pytest.raises(PaymentRequired) as exc:
        credits.consume("acme", 71, key="call-2")
    assert exc.value.status == 402
    assert exc.value.extra == {"available": 70, "requested": 71, "shortfall": 1}
    assert credits.balance("acme").balance == 70
    assert credits.balance("other").balance == 0  # per tenant


def test_reserve_commit_cancel_expire(credits: CreditsService, clock: ManualClock) -> None:
    credits.purchase("acme", 100, key="p")
    r1 = credits.reserve("acme", 60, ttl_seconds=30, key="job-1")
    assert credits.balance("acme").as_dict() == {
        "tenant_id": "acme",
        "balance": 100,
        "reserved": 60,
        "available": 40,
        "low_balance_threshold": None,
    }
    with pytest.raises(PaymentRequired):
        credits.reserve("acme", 41, ttl_seconds=30, key="job-2")
    credits.commit("acme", r1.id, amount=45)
    assert credits.balance("acme").balance == 55 and credits.balance("acme").reserved == 0
    r2 = credits.reserve("acme", 50, ttl_seconds=30, key="job-3")
    credits.cancel("acme", r2.id)
    with pytest.raises(Rejected) as exc:
        credits.commit("acme", r2.id)
    assert exc.value.instance_code == "pending_transfer_already_voided"
    r3 = credits.reserve("acme", 55, ttl_seconds=10, key="job-4")
    clock.advance(11)
    with pytest.raises(Rejected) as exc:
        credits.commit("acme", r3.id)
    assert exc.value.instance_code == "pending_transfer_expired"
    assert credits.balance("acme").available == 55
    with pytest.raises(NotFound):
        credits.commit("acme", "not-a-reservation")
    with pytest.raises(InvalidInput):
        credits.reserve("acme", 1, ttl_seconds=0)


def test_low_balance_alert_is_published_once(credits: CreditsService) -> None:
    credits.purchase("acme", 100, key="p")
    credits.set_threshold("acme", 50)
    credits.consume("acme", 40, key="c1")
    credits.consume("acme", 20, key="c2")  # crosses 50
    credits.consume("acme", 5, key="c3")  # already below: no second alert
    ledger = credits.accounting.ledger
    events = [ev for e in ledger.entries(limit=1000) for ev in e.events]
    assert [(ev.event_type, ev.payload["available"]) for ev in events] == [
        ("credits.low_balance", 40)
    ]


def test_reservations_belong_to_their_requester(credits: CreditsService) -> None:
    credits.purchase("acme", 100, key="p")
    mine = credits.reserve("acme", 10, ttl_seconds=30, key="r-1", requested_by="agent-1")
    assert mine.metadata["requested_by"] == "agent-1"
    # Scope `own`: another agent's reservation is as missing as an unknown one.
    for act in (credits.commit, credits.cancel):
        with pytest.raises(NotFound) as theirs:
            act("acme", mine.id, owner="agent-2")
        with pytest.raises(NotFound) as unknown:
            act("acme", "credits.reserve.nope", owner="agent-2")
        assert theirs.value.instance_code == unknown.value.instance_code
        assert theirs.value.detail == unknown.value.detail.replace("credits.reserve.nope", mine.id)
    assert credits.balance("acme").reserved == 10  # nothing was committed or released
    # Reserving or consuming in another principal's name is refused, nothing recorded.
    with pytest.raises(InvalidInput) as refused:
        credits.consume("acme", 5, metadata={"requested_by": "agent-1"}, requested_by="agent-2")
    assert refused.value.errors[0].pointer == "/metadata/requested_by"
    assert credits.balance("acme").balance == 100
    credits.commit("acme", mine.id, amount=4, owner="agent-1")
    assert (credits.balance("acme").balance, credits.balance("acme").reserved) == (96, 0)
