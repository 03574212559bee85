"""Credit applications on memory adapters: offered with a TILA disclosure, declined with
reasons, accepted once by the applicant, every step sealed with its events."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from paygod.canonical import digest
from paygod.credit.apr import AprCase, Payment, UnitPeriod, annual_percentage_rate
from paygod.credit.bureau import SimulatedBureau
from paygod.credit.model import ApplicationStatus
from paygod.credit.service import CreditService, contract_document
from paygod.decisions.packs import DEFAULT_PACKS_DIR, PackRepository
from paygod.decisions.service import DecisionService
from paygod.decisions.stores.memory import MemoryDecisionIndex
from paygod.kernel.clock import ManualClock
from paygod.kernel.errors import Conflict, Forbidden, InvalidInput, NotFound
from paygod.ledger import LedgerService
from paygod.ledger.stores.memory import MemoryLedgerStore
from paygod.risk.service import RiskService
from paygod.risk.stores.models import MemoryModelStore

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def world() -> tuple[CreditService, ManualClock, LedgerService]:
    clock = ManualClock(NOW)
    ledger = LedgerService(MemoryLedgerStore(), clock)
    bureau = SimulatedBureau(unavailable=frozenset({"urn:applicant:timeout"}))
    return CreditService(ledger, clock, bureau, decisions=decisions(ledger, clock)), clock, ledger


def decisions(
    ledger: LedgerService, clock: ManualClock, packs: Path = DEFAULT_PACKS_DIR, *, risk: bool = True
) -> DecisionService:
    """The kernel's decision service over the bundled packs, scored by the risk module."""
    repository = PackRepository(packs, poll_seconds=0)
    service = DecisionService(ledger, repository, clock, MemoryDecisionIndex())
    if risk:
        service.risk = RiskService(ledger, MemoryModelStore(), clock, "t1")
    return service


def body(**kw: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "product_id": "personal-term-loan",
        "applicant_ref": "urn:applicant:prime",
        "amount": 1_000_000,
        "currency": "USD",
        "payments": 36,
        "monthly_income": 600_000,
        "monthly_debt": 50_000,
    }
    data.update(kw)
    return data


def test_a_prime_applicant_is_offered_with_a_true_apr(world: Any) -> None:
    service, _, ledger = world
    application, created = service.submit(body(), tenant_id="t1", applicant="agent-a")
    assert created and application.status is ApplicationStatus.OFFERED
    offer = application.offer
    assert offer is not None and offer["grade"] == "A" and offer["annual_rate"] == "0.0699"
    disclosure = offer["disclosure"]
    # 2 % origination fee is a prepaid finance charge: financed 9,800.00 of 10,000.00.
    assert disclosure["amount_financed"] == 980_000
    assert disclosure["total_of_payments"] == offer["schedule"]["totals"]["payments"]
    assert disclosure["finance_charge"] == disclosure["total_of_payments"] - 980_000
    # The APR includes the fee, so it is above the 6.99 % note rate; recomputed here.
    rows = offer["schedule"]["rows"]
    case = AprCase(
        980_000,
        NOW.date(),
        UnitPeriod("month"),
        tuple(Payment(datetime.fromisoformat(r["due_date"]).date(), r["payment"]) for r in rows),
    )
    assert disclosure["annual_percentage_rate"] == annual_percentage_rate(case).as_dict()["apr"]
    assert Decimal(disclosure["annual_percentage_rate"]) > Decimal("8.2")
    entries = ledger.history(f"credit-application:{application.application_id}")
    assert [e.payload["transition"] for e in entries] == [
        "submitted",
        "checked",
        "assessed",
        "offered",
    ]
    events = [ev["event_type"] for ev in ledger.outbox]
    # The underwriting decision is the decision service's, sealed before the assessment.
    assert events[-5:] == [
        "CreditApplicationCreated",
        "ComplianceCheckCompleted",
        "decision.finalized",
        "RiskAssessmentCompleted",
        "ApplicationProcessed",
    ]
    saga_events = [ev for ev in ledger.outbox[-5:] if ev["event_type"] != "decision.finalized"]
    # Every saga event names the applicant principal, for notification subscriptions.
    assert {ev["envelope"]["payload"]["principal_id"] for ev in saga_events} == {"agent-a"}
    assert "urn:applicant:prime" not in str([e.payload["application"]["bureau"] for e in entries])


def test_a_subprime_applicant_is_declined_with_four_reasons(world: Any) -> None:
    service, _, _ = world
    application, _ = service.submit(
        body(applicant_ref="urn:applicant:subprime", monthly_income=300_000),
        tenant_id="t1",
        applicant="agent-a",
    )
    assert application.status is ApplicationStatus.DECLINED and application.offer is None
    reasons = application.underwriting["reasons"]
    assert len(reasons) == 4
    assert reasons[0] == {"code": "R07", "text": "Bankruptcy on file"}
    assert {"code": "R06", "text": "Debt-to-income ratio too high"} in reasons


def test_accept_seals_the_contract_digest_once(world: Any) -> None:
    service, clock, ledger = world
    application, _ = service.submit(body(), tenant_id="t1", applicant="agent-a")
    with pytest.raises(Forbidden):
        service.accept(application.application_id, tenant_id="t1", signer="agent-b")
    with pytest.raises(NotFound):
        service.accept(application.application_id, tenant_id="t2", signer="agent-a")
    clock.advance(3600)
    accepted = service.accept(application.application_id, tenant_id="t1", signer="agent-a")
    assert accepted.status is ApplicationStatus.ACCEPTED
    assert accepted.contract["document_digest"] == digest(contract_document(application))
    assert accepted.contract["signed_by"] == "agent-a"
    assert ledger.outbox[-1]["event_type"] == "OfferAccepted"
    with pytest.raises(Conflict):
        service.accept(application.application_id, tenant_id="t1", signer="agent-a")
    # What was known before the signature is still readable.
    before = service.get(application.application_id, "t1", at=NOW)
    assert before.status is ApplicationStatus.OFFERED
    assert ledger.verify().ok


def test_an_expired_offer_cannot_be_accepted(world: Any) -> None:
    service, clock, ledger = world
    application, _ = service.submit(body(), tenant_id="t1", applicant="agent-a")
    size = ledger.size
    clock.advance(8 * 86400)
    with pytest.raises(Conflict) as raised:
        service.accept(application.application_id, tenant_id="t1", signer="agent-a")
    assert raised.value.instance_code == "offer-expired"
    assert ledger.size == size


def test_idempotency_key_replays_and_refuses_another_body(world: Any) -> None:
    service, _, ledger = world
    first, created = service.submit(body(), tenant_id="t1", applicant="a", idempotency_key="k")
    size = ledger.size
    again, created_again = service.submit(
        body(), tenant_id="t1", applicant="a", idempotency_key="k"
    )
    assert created and not created_again and again == first and ledger.size == size
    with pytest.raises(Conflict):
        service.submit(body(amount=200_000), tenant_id="t1", applicant="a", idempotency_key="k")


def test_a_bureau_timeout_leaves_the_application_submitted(world: Any) -> None:
    """A defined saga transition: `submitted` is sealed with its first step's message, the
    step waits for the bureau (the worker retries it); nothing past it is recorded."""
    service, _, ledger = world
    application, created = service.submit(
        body(applicant_ref="urn:applicant:timeout"), tenant_id="t1", applicant="a"
    )
    assert created and application.status is ApplicationStatus.SUBMITTED
    assert [
        e.payload["transition"]
        for e in ledger.history(f"credit-application:{application.application_id}")
    ] == ["submitted"]
    # The bureau answers again: the same step, run again, finishes the saga once.
    service.bureau.unavailable = frozenset()
    done = service.saga.advance(application.application_id)
    assert (done is not None and done.status is ApplicationStatus.DECLINED) or done.offer


@pytest.mark.parametrize(
    ("override", "pointer"),
    [
        ({"amount": 0}, "/amount"),
        ({"amount": -5}, "/amount"),
        ({"amount": 10**9}, "/amount"),
        ({"payments": 0}, "/payments"),
        ({"payments": 12_000}, "/payments"),
        ({"amount": "1000"}, "/amount"),
        ({"currency": "JPY"}, "/currency"),
        ({"product_id": "nope"}, "/product_id"),
        ({"applicant_ref": "Jane Doe, 1 Main St"}, "/applicant_ref"),
        ({"applicant_ref": "urn:x\u202e"}, "/applicant_ref"),
        ({"monthly_income": 0}, "/monthly_income"),
        ({"ssn": "123"}, "/ssn"),
    ],
)
def test_bad_applications_are_refused_unrecorded(
    world: Any, override: dict[str, Any], pointer: str
) -> None:
    service, _, ledger = world
    with pytest.raises(InvalidInput) as raised:
        service.submit(body(**override), tenant_id="t1", applicant="a")
    assert raised.value.errors[0].pointer == pointer
    assert ledger.size == 0
