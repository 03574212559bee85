"""The application saga on a real standalone kernel, driven by its outbox worker: each
step a message, sealed with its successor's event; redelivery records nothing; compliance
failures decline with a reason; raw bureau answers live in the vault, not the ledger."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from paygod.bootstrap import Kernel, build_kernel
from paygod.credit.model import ApplicationStatus
from paygod.credit.service import subject_of
from tests.e2e.conftest import run_cli

BODY = {
    "product_id": "personal-term-loan",
    "amount": 1_000_000,
    "currency": "USD",
    "payments": 36,
    "monthly_income": 700_000,
    "monthly_debt": 20_000,
}


@pytest.fixture
def kernel(paygod_home: Path) -> Iterator[Kernel]:
    kernel = build_kernel()
    kernel.lending.inline = False  # the worker advances the saga, as in production
    yield kernel
    kernel.close()


def apply(kernel: Kernel, ref: str) -> str:
    application, created = kernel.lending.submit(
        {**BODY, "applicant_ref": ref}, tenant_id="default", applicant="agent-a"
    )
    assert created and application.status is ApplicationStatus.SUBMITTED
    return application.application_id


def transitions(kernel: Kernel, application_id: str) -> list[str]:
    return [e["transition"] for e in kernel.lending.history(application_id)]


def outbox(kernel: Kernel, application_id: str) -> list[dict[str, Any]]:
    conn = kernel.db.connect()  # type: ignore[union-attr]
    try:
        rows = conn.execute(
            "SELECT event_type, status, envelope FROM outbox WHERE aggregate_id = ? "
            "ORDER BY entry_seq",
            (application_id,),
        ).fetchall()
    finally:
        conn.close()
    return [{"event_type": r[0], "status": r[1], "envelope": r[2]} for r in rows]


def names_agent_a(row: dict[str, Any]) -> bool:
    """The envelope's payload names the principal a notification would tell."""
    return '"principal_id":"agent-a"' in str(row["envelope"]).replace(" ", "")


def test_the_worker_runs_each_step_once(kernel: Kernel) -> None:
    application_id = apply(kernel, "urn:applicant:prime")
    assert transitions(kernel, application_id) == ["submitted"]
    # One round per step: each step's message exists only once its predecessor is sealed.
    kernel.executor.run_once()
    assert transitions(kernel, application_id) == ["submitted", "checked"]
    kernel.executor.drain()
    assert transitions(kernel, application_id) == ["submitted", "checked", "assessed", "offered"]
    rows = outbox(kernel, application_id)
    assert [r["event_type"] for r in rows] == [
        "CreditApplicationCreated",
        "ComplianceCheckCompleted",
        "RiskAssessmentCompleted",
        "ApplicationProcessed",
    ]
    missing = [
        r for r in rows if '"principal_id":"agent-a"' not in str(r["envelope"]).replace(" ", "")
    ]
    assert not missing, missing
    # A redelivered step (a worker died before its ack) finds the step done: nothing new.
    size = kernel.ledger.size
    for status in (ApplicationStatus.SUBMITTED, ApplicationStatus.CHECKED):
        kernel.lending.saga.run(application_id, status)
    assert kernel.ledger.size == size
    assert kernel.ledger.verify().ok


def test_raw_bureau_answer_is_in_the_vault_only(kernel: Kernel) -> None:
    application_id = apply(kernel, "urn:applicant:prime")
    kernel.executor.drain()
    application = kernel.lending.get(application_id)
    checks = application.checks or {}
    record = checks["bureau"]["record"]
    assert record.startswith("urn:") and checks["bureau"]["digest"].startswith("sha256:")
    raw = kernel.privacy.vault.read("default", record)["data"]
    assert raw["score"] == 790
    # The KYC name (personal data) is in the vault; the ledger holds its digest only.
    kyc = kernel.privacy.vault.read("default", checks["kyc"]["record"])["data"]
    assert kyc["name"].startswith("Applicant ")
    sealed = str([e.payload for e in kernel.ledger.history(subject_of(application_id))])
    assert kyc["name"] not in sealed


@pytest.mark.parametrize(
    ("ref", "code"),
    [
        ("urn:applicant:unverified", "K01"),
        ("urn:applicant:sanctioned", "K02"),
        ("urn:applicant:closed-account", "K03"),
    ],
)
def test_a_failed_compliance_check_declines_with_its_reason(
    kernel: Kernel, ref: str, code: str
) -> None:
    application_id = apply(kernel, ref)
    kernel.executor.drain()
    application = kernel.lending.get(application_id)
    assert application.status is ApplicationStatus.DECLINED
    assert [r["code"] for r in (application.underwriting or {})["reasons"]] == [code]
    assert transitions(kernel, application_id) == ["submitted", "declined"]
    assert [r["event_type"] for r in outbox(kernel, application_id)][-1] == "ApplicationProcessed"


def test_a_bureau_outage_dead_letters_the_step_and_replay_finishes_it(kernel: Kernel) -> None:
    bureau = kernel.lending.bureau
    bureau.unavailable = frozenset({"urn:applicant:near-prime"})  # type: ignore[attr-defined]
    application_id = apply(kernel, "urn:applicant:near-prime")
    kernel.executor.backoff = type(kernel.executor.backoff)(initial=0, jitter=0, max_attempts=2)
    for _ in range(4):
        kernel.executor.drain()
    rows = outbox(kernel, application_id)
    assert [(r["event_type"], r["status"]) for r in rows] == [("CreditApplicationCreated", "dead")]
    assert transitions(kernel, application_id) == ["submitted"]
    bureau.unavailable = frozenset()  # type: ignore[attr-defined]
    dead = [m for m in kernel.executor.store.list("dead") if m.aggregate_id == application_id]
    assert len(dead) == 1
    # The operator's replay: `paygod executor dlq retry <event id>` (another process).
    replay = run_cli("executor", "dlq", "retry", dead[0].event_id, "--json")
    assert replay.code == 0, replay.stderr
    kernel.executor.drain()
    assert transitions(kernel, application_id)[-1] in {"offered", "declined"}


def test_loan_events_name_the_borrower_principal(kernel: Kernel) -> None:
    application_id = apply(kernel, "urn:applicant:prime")
    kernel.executor.drain()
    kernel.lending.accept(application_id, tenant_id="default", signer="agent-a")
    kernel.loans.disburse(application_id, tenant_id="default", operator="ops")
    kernel.loans.repay(
        application_id,
        {"amount": 10_000, "currency": "USD"},
        tenant_id="default",
        owner=None,
        idempotency_key="r-1",
    )
    rows = outbox(kernel, application_id)
    types = [r["event_type"] for r in rows]
    assert {"OfferAccepted", "LoanDisbursed", "RepaymentReceived"} <= set(types)
    missing = [
        r for r in rows if '"principal_id":"agent-a"' not in str(r["envelope"]).replace(" ", "")
    ]
    assert not missing, missing


def test_a_withdrawal_mid_saga_stops_it(kernel: Kernel) -> None:
    """Withdrawn between two steps: the worker's next message (the assessment) finds the
    application withdrawn and seals nothing — no step, no underwriting decision."""
    application_id = apply(kernel, "urn:applicant:prime")
    kernel.executor.run_once()
    assert transitions(kernel, application_id) == ["submitted", "checked"]
    kernel.lending.withdraw(
        application_id, tenant_id="default", owner="agent-a", by="agent-a", reason="too slow"
    )
    size = kernel.ledger.size
    kernel.executor.drain()
    assert kernel.ledger.size == size
    assert transitions(kernel, application_id) == ["submitted", "checked", "withdrawn"]
    rows = outbox(kernel, application_id)
    assert [r["event_type"] for r in rows] == [
        "CreditApplicationCreated",
        "ComplianceCheckCompleted",
        "CreditApplicationWithdrawn",
    ]
    assert all(r["status"] == "done" for r in rows), rows
    assert names_agent_a(rows[-1])
    assert kernel.ledger.verify().ok
