"""Listing applications (tenant, owner, state, a past time, pages) and withdrawing them
before acceptance: sealed once as a new version with its event, refused with nothing
recorded from every state after it, and never undone by a saga step still in flight."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from paygod.credit.model import Application, ApplicationStatus
from paygod.credit.service import CreditService, parse_withdrawal
from paygod.kernel.clock import ManualClock, isoformat
from paygod.kernel.errors import Conflict, InvalidInput, NotFound
from paygod.ledger import LedgerService
from tests.unit.credit.test_applications import NOW, body, world

__all__ = ["world"]  # the fixture, shared with test_applications

World = tuple[CreditService, ManualClock, LedgerService]


def submitted(service: CreditService, applicant: str = "agent-a", **kw: Any) -> Application:
    """An application the saga has not started on (as with a worker that has not run)."""
    service.inline = False
    try:
        application, _ = service.submit(body(**kw), tenant_id="t1", applicant=applicant)
    finally:
        service.inline = True
    return application


def checked(service: CreditService) -> Application:
    application = submitted(service)
    moved = service.saga.run(application.application_id, ApplicationStatus.SUBMITTED)
    assert moved is not None and moved.status is ApplicationStatus.CHECKED
    return moved


def assessed(service: CreditService) -> Application:
    """`assessed` alone: the state an assess step sealed on an earlier run's decision
    leaves (the usual assess step seals the offer with it)."""
    before = checked(service)
    moved = before.move_to(ApplicationStatus.ASSESSED, isoformat(service.clock.now()))
    return service._seal(before, moved, [])


def offered(service: CreditService) -> Application:
    application, _ = service.submit(body(), tenant_id="t1", applicant="agent-a")
    assert application.status is ApplicationStatus.OFFERED
    return application


def accepted(service: CreditService) -> Application:
    application = offered(service)
    return service.accept(application.application_id, tenant_id="t1", signer="agent-a")


def declined(service: CreditService) -> Application:
    application, _ = service.submit(
        body(applicant_ref="urn:applicant:subprime", monthly_income=300_000),
        tenant_id="t1",
        applicant="agent-a",
    )
    assert application.status is ApplicationStatus.DECLINED
    return application


def expired(service: CreditService) -> Application:
    before = offered(service)
    clock = service.clock
    assert isinstance(clock, ManualClock)
    clock.advance(86_400 * 8)  # past the offer's 7 days
    moved = service.expire(before.application_id)
    assert moved is not None
    return moved


def withdrawn(service: CreditService) -> Application:
    application = offered(service)
    return service.withdraw(
        application.application_id, tenant_id="t1", owner="agent-a", by="agent-a"
    )


BEFORE_ACCEPTANCE: dict[str, Callable[[CreditService], Application]] = {
    "submitted": submitted,
    "checked": checked,
    "assessed": assessed,
    "offered": offered,
}
ENDED: dict[str, Callable[[CreditService], Application]] = {
    "accepted": accepted,
    "declined": declined,
    "expired": expired,
    "withdrawn": withdrawn,
}


@pytest.mark.parametrize("state", sorted(BEFORE_ACCEPTANCE))
def test_withdrawn_from_each_state_before_acceptance(world: World, state: str) -> None:
    service, clock, ledger = world
    application = BEFORE_ACCEPTANCE[state](service)
    assert application.status.value == state
    size = ledger.size
    clock.advance(60)
    done = service.withdraw(
        application.application_id,
        tenant_id="t1",
        owner="agent-a",
        by="agent-a",
        reason="found a better rate",
    )
    assert done.status is ApplicationStatus.WITHDRAWN
    assert done.version == application.version + 1
    assert done.withdrawal == {
        "withdrawn_by": "agent-a",
        "withdrawn_at": isoformat(clock.now()),
        "from_status": state,
        "reason": "found a better rate",
    }
    assert ledger.size == size + 1  # one sealed version, nothing else
    assert service.find(application.application_id) == done
    assert service.history(application.application_id)[-1]["transition"] == "withdrawn"
    event = ledger.outbox[-1]
    assert event["event_type"] == "CreditApplicationWithdrawn"
    payload = event["envelope"]["payload"]
    assert payload["application_id"] == application.application_id
    assert payload["status"] == "withdrawn" and payload["principal_id"] == "agent-a"
    assert (payload["from_status"], payload["reason"]) == (state, "found a better rate")
    assert event["envelope"]["aggregate_type"] == "credit_application"
    assert ledger.verify().ok


@pytest.mark.parametrize("state", sorted(ENDED))
def test_refused_from_every_state_after_it_and_nothing_recorded(world: World, state: str) -> None:
    service, _, ledger = world
    application = ENDED[state](service)
    assert application.status.value == state
    size, events = ledger.size, len(ledger.outbox)
    with pytest.raises(Conflict) as raised:
        service.withdraw(application.application_id, tenant_id="t1", owner=None, by="admin")
    # A second withdrawal is 409 as a second acceptance is (`application-accepted`).
    assert raised.value.status == 409
    assert raised.value.instance_code == f"application-{state}"
    assert (ledger.size, len(ledger.outbox)) == (size, events)
    assert service.find(application.application_id) == application


def test_a_withdrawn_application_cannot_be_accepted(world: World) -> None:
    service, _, ledger = world
    application = withdrawn(service)
    size = ledger.size
    with pytest.raises(Conflict) as raised:
        service.accept(application.application_id, tenant_id="t1", signer="agent-a")
    assert raised.value.instance_code == "application-withdrawn"
    assert ledger.size == size


def test_only_the_applicant_or_the_tenant_withdraws(world: World) -> None:
    service, _, ledger = world
    application = offered(service)
    size = ledger.size
    # Another applicant (scope `own`) and another tenant alike: no such application.
    with pytest.raises(NotFound):
        service.withdraw(application.application_id, tenant_id="t1", owner="agent-b", by="b")
    with pytest.raises(NotFound):
        service.withdraw(application.application_id, tenant_id="t2", owner=None, by="admin-2")
    with pytest.raises(NotFound):
        service.withdraw("no-such-id", tenant_id="t1", owner=None, by="admin")
    assert ledger.size == size
    # The tenant's lender (scope `all`) may.
    done = service.withdraw(application.application_id, tenant_id="t1", owner=None, by="admin")
    assert done.withdrawal is not None and done.withdrawal["withdrawn_by"] == "admin"
    assert done.withdrawal["reason"] is None


def test_a_saga_step_after_the_withdrawal_records_nothing(world: World) -> None:
    """The worker's message for the next step is still queued when the applicant withdraws:
    the step finds the application withdrawn and seals nothing, neither the step nor a
    decision; a step that read the application before (inline) finds it moved on in its
    write transaction."""
    service, _, ledger = world
    first = submitted(service)
    service.withdraw(first.application_id, tenant_id="t1", owner="agent-a", by="agent-a")
    size = ledger.size
    after = service.saga.run(first.application_id, ApplicationStatus.SUBMITTED)
    assert after is not None and after.status is ApplicationStatus.WITHDRAWN
    assert service.saga.advance(first.application_id) == after
    assert ledger.size == size

    second = checked(service)
    service.withdraw(second.application_id, tenant_id="t1", owner=None, by="admin")
    size = ledger.size
    # `known`: the version this caller sealed before the withdrawal (inline mode).
    stale = service.saga.run(second.application_id, ApplicationStatus.CHECKED, known=second)
    assert stale is not None and stale.status is ApplicationStatus.WITHDRAWN
    assert ledger.size == size
    assert [h["transition"] for h in service.history(second.application_id)] == [
        "submitted",
        "checked",
        "withdrawn",
    ]
    assert ledger.verify().ok


def test_an_acceptance_prepared_before_a_withdrawal_is_refused_in_the_writer(
    world: World,
) -> None:
    """Another process withdrew between this one's read and its write: the acceptance's
    write transaction finds another version and seals nothing (`application-changed`)."""
    service, _, ledger = world
    application = offered(service)
    real_get = service.get

    def read_then_withdrawn(*args: Any, **kwargs: Any) -> Application:
        found = real_get(*args, **kwargs)
        moved = found.move_to(ApplicationStatus.WITHDRAWN, isoformat(service.clock.now()))
        service.ledger.append(service._draft(moved, "withdrawn", []))  # the other process
        return found

    service.get = read_then_withdrawn  # type: ignore[method-assign]
    size = ledger.size
    with pytest.raises(Conflict) as raised:
        service.accept(application.application_id, tenant_id="t1", signer="agent-a")
    assert raised.value.instance_code == "application-changed"
    assert ledger.size == size + 1  # the other process's withdrawal only
    service.get = real_get  # type: ignore[method-assign]
    assert service.find(application.application_id).status is ApplicationStatus.WITHDRAWN  # type: ignore[union-attr]


def ids(found: list[Application]) -> list[str]:
    return [a.application_id for a in found]


def test_the_list_by_tenant_owner_state_time_and_page(world: World) -> None:
    service, clock, ledger = world
    a1 = offered(service)
    clock.advance(60)
    b1, _ = service.submit(body(), tenant_id="t1", applicant="agent-b")
    clock.advance(60)
    a2 = declined(service)
    other, _ = service.submit(body(), tenant_id="t2", applicant="agent-a")
    clock.advance(60)
    before_withdrawal = clock.now()
    clock.advance(60)
    service.withdraw(a1.application_id, tenant_id="t1", owner="agent-a", by="agent-a")
    size = ledger.size

    tenant = [a1.application_id, b1.application_id, a2.application_id]
    assert ids(service.applications("t1")) == tenant  # oldest first, t2's never
    assert ids(service.applications("t2")) == [other.application_id]
    assert ids(service.applications("t3")) == []
    assert ids(service.applications("t1", "agent-a")) == [a1.application_id, a2.application_id]
    assert ids(service.applications("t1", "agent-c")) == []
    # Each as it stands now, or as recorded by `at`.
    states = {a.application_id: a.status for a in service.applications("t1")}
    assert states[a1.application_id] is ApplicationStatus.WITHDRAWN
    then = service.applications("t1", at=before_withdrawal)
    assert {a.application_id: a.status for a in then}[a1.application_id] is (
        ApplicationStatus.OFFERED
    )
    assert ids(service.applications("t1", at=NOW)) == [a1.application_id]  # b1 came later
    withdrawn_now = service.applications("t1", status=ApplicationStatus.WITHDRAWN)
    assert ids(withdrawn_now) == [a1.application_id]
    assert ids(service.applications("t1", status=ApplicationStatus.OFFERED)) == [b1.application_id]
    offered_then = service.applications(
        "t1", status=ApplicationStatus.OFFERED, at=before_withdrawal
    )
    assert ids(offered_then) == [a1.application_id, b1.application_id]
    assert ids(service.applications("t1", "agent-b", status=ApplicationStatus.DECLINED)) == []
    # Pages: `after` the last id of the page before.
    page = service.applications("t1", limit=2)
    assert ids(page) == tenant[:2]
    assert ids(service.applications("t1", limit=2, after=page[-1].application_id)) == tenant[2:]
    assert ids(service.applications("t1", after=tenant[-1])) == []
    refused: list[tuple[str | None, str | None, int]] = [
        (None, other.application_id, 100),  # t2's
        ("agent-a", b1.application_id, 100),  # not hers
        (None, None, 0),
        (None, None, 1001),
    ]
    for owner, after, limit in refused:
        with pytest.raises(InvalidInput):
            service.applications("t1", owner, after=after, limit=limit)
    assert ledger.size == size  # reads record nothing


def test_every_submitted_application_is_in_the_book_once(world: World) -> None:
    service, _, ledger = world
    first, _ = service.submit(body(), tenant_id="t1", applicant="a", idempotency_key="k")
    again, created = service.submit(body(), tenant_id="t1", applicant="a", idempotency_key="k")
    assert not created and again == first
    book = ledger.history("credit-application-book")
    listed = {"application_id": first.application_id, "applicant": "a"}
    assert [(e.kind, e.tenant_id, e.payload) for e in book] == [
        ("credit.application-book", "t1", listed)
    ]


@pytest.mark.parametrize(
    ("document", "pointer"),
    [
        ({"reason": ""}, "/reason"),
        ({"reason": "   "}, "/reason"),
        ({"reason": "x" * 201}, "/reason"),
        ({"reason": 5}, "/reason"),
        ({"reason": "ok\u202e"}, "/reason"),
        ({"reason": "write to jane.doe@example.com"}, "/reason"),
        ({"why": "no"}, "/why"),
    ],
)
def test_a_bad_reason_is_refused_with_its_pointer(document: dict[str, Any], pointer: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        parse_withdrawal(document)
    assert raised.value.errors[0].pointer == pointer


def test_a_reason_is_optional() -> None:
    assert parse_withdrawal({}) is None
    assert parse_withdrawal({"reason": None}) is None
    assert parse_withdrawal({"reason": "changed my mind"}) == "changed my mind"
