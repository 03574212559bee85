"""Loans on PostgreSQL, with two kernels (two processes' worth of services) on one schema:
a disbursement raced from both books once, repayments raced from both never leave the
loan's state and its books apart, and the books balance."""

from __future__ import annotations

import base64
import os
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import quote
from uuid import uuid4

import psycopg
import pytest

from paygod.bootstrap import Kernel, build_kernel
from paygod.kernel.errors import Conflict
from paygod.kernel.settings import load_settings

TENANT = "acme"
APPLICATION = {
    "product_id": "personal-term-loan",
    "applicant_ref": "urn:applicant:prime",
    "amount": 1_000_000,
    "currency": "USD",
    "payments": 12,
    "monthly_income": 900_000,
}


@pytest.fixture
def kernels(
    postgres_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Kernel, Kernel]]:
    # Two processes of one deployment share its key-encryption key (docs/security.md): a
    # record one seals in the vault, the other opens.
    monkeypatch.setenv("PAYGOD_KEK", base64.b64encode(os.urandom(32)).decode())
    schema = f"t_{uuid4().hex}"
    with psycopg.connect(postgres_url, autocommit=True) as admin:
        admin.execute(f"CREATE SCHEMA {schema}")
    url = f"{postgres_url}?options={quote(f'-csearch_path={schema}')}"
    built = [
        build_kernel(load_settings(home=tmp_path / name, database_url=url, redis_url=None))
        for name in ("a", "b")
    ]
    try:
        yield built[0], built[1]
    finally:
        for kernel in built:
            kernel.close()
        with psycopg.connect(postgres_url, autocommit=True) as admin:
            admin.execute(f"DROP SCHEMA {schema} CASCADE")


def _race(*calls: Any) -> list[Any]:
    def attempt(call: Any) -> Any:
        try:
            return call()
        except Conflict as exc:
            return exc

    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(attempt, calls))


def test_loans_across_two_kernels(kernels: tuple[Kernel, Kernel]) -> None:
    a, b = kernels
    application, _ = a.lending.submit(
        APPLICATION, tenant_id=TENANT, applicant="alice", idempotency_key="app-1"
    )
    loan_id = application.application_id
    a.lending.accept(loan_id, tenant_id=TENANT, signer="alice")
    outcomes = _race(
        lambda: a.loans.disburse(loan_id, tenant_id=TENANT, operator="op-a"),
        lambda: b.loans.disburse(loan_id, tenant_id=TENANT, operator="op-b"),
    )
    # The loser is refused as a conflict: LoanDisbursed when it reads the winner's seal,
    # a plain Conflict when it loses the version check inside the write.
    assert sum(isinstance(o, dict) for o in outcomes) == 1, outcomes
    assert sum(isinstance(o, Conflict) for o in outcomes) == 1, outcomes
    receivable = a.accounting.get_account(TENANT, f"credit-loan-{loan_id}")
    assert receivable.balance == 1_000_000  # booked once

    paid = []
    body = {"amount": 20_000, "currency": "USD"}
    for round_ in range(4):
        outcomes = _race(
            *(
                partial(
                    kernel.loans.repay,
                    loan_id,
                    body,
                    tenant_id=TENANT,
                    owner=None,
                    idempotency_key=f"{side}-{round_}",
                )
                for side, kernel in (("a", a), ("b", b))
            )
        )
        paid += [o for o in outcomes if isinstance(o, tuple)]
        assert paid, outcomes
    loan = b.loans.get(loan_id)
    # The loan's state counts exactly the repayments the books hold.
    assert len(loan.repayments) == len(paid)
    principal_paid = sum(r["allocation"]["principal"] for r in loan.repayments)
    receivable = b.accounting.get_account(TENANT, f"credit-loan-{loan_id}")
    assert receivable.balance == 1_000_000 - principal_paid == loan.principal_outstanding
    assert a.accounting.trial_balance(TENANT)["balanced"]
    assert a.accounting.rebuild_check(TENANT).ok
    assert a.ledger.verify().ok


def test_saga_steps_raced_by_two_kernels_seal_once(kernels: tuple[Kernel, Kernel]) -> None:
    """The application saga on PostgreSQL: both kernels run each step at once (two workers
    holding the same message after a lease ran out); each transition is sealed once."""
    from paygod.credit.model import ApplicationStatus

    a, b = kernels
    a.lending.inline = b.lending.inline = False
    application, _ = a.lending.submit(APPLICATION, tenant_id=TENANT, applicant="agent-1")
    application_id = application.application_id
    for status in (
        ApplicationStatus.SUBMITTED,
        ApplicationStatus.CHECKED,
        ApplicationStatus.ASSESSED,
    ):
        _race(
            partial(a.lending.saga.run, application_id, status),
            partial(b.lending.saga.run, application_id, status),
        )
    a.executor.drain()
    b.executor.drain()
    history = [h["transition"] for h in b.lending.history(application_id)]
    assert history == ["submitted", "checked", "assessed", "offered"]
    checks = b.lending.get(application_id).checks or {}
    raw = b.privacy.vault.read(TENANT, checks["bureau"]["record"])["data"]
    assert raw["score"] == 790
    assert a.ledger.verify().findings == ()


def test_a_withdrawal_raced_by_another_kernel_seals_one_outcome(
    kernels: tuple[Kernel, Kernel],
) -> None:
    """Two processes: one applicant withdraws on kernel A while it signs on kernel B, and
    a saga step of B runs while A withdraws. Each race seals one outcome; the loser is a
    409 (its state's code, or `application-changed` when it loses inside the write)."""
    from paygod.credit.model import ApplicationStatus

    a, b = kernels
    for round_ in range(3):
        application, _ = a.lending.submit(
            APPLICATION, tenant_id=TENANT, applicant="alice", idempotency_key=f"w-{round_}"
        )
        application_id = application.application_id
        outcomes = _race(
            partial(
                a.lending.withdraw, application_id, tenant_id=TENANT, owner="alice", by="alice"
            ),
            partial(b.lending.accept, application_id, tenant_id=TENANT, signer="alice"),
        )
        assert sum(isinstance(o, Conflict) for o in outcomes) == 1, outcomes
        history = [h["transition"] for h in b.lending.history(application_id)]
        assert history[-1] in {"withdrawn", "accepted"} and history[-2] == "offered", history
        assert len(history) == 5, history

    a.lending.inline = b.lending.inline = False
    application, _ = a.lending.submit(APPLICATION, tenant_id=TENANT, applicant="bob")
    application_id = application.application_id
    _race(
        partial(a.lending.withdraw, application_id, tenant_id=TENANT, owner=None, by="ops"),
        partial(b.lending.saga.run, application_id, ApplicationStatus.SUBMITTED),
    )
    a.executor.drain()
    b.executor.drain()
    history = [h["transition"] for h in b.lending.history(application_id)]
    # Withdrawn first: no step after it. Checked first: withdrawn from there, or (the
    # withdrawal read `submitted` and lost inside the write) the saga runs to its end.
    assert history in (
        ["submitted", "withdrawn"],
        ["submitted", "checked", "withdrawn"],
        ["submitted", "checked", "assessed", "offered"],
    ), history
    assert a.ledger.verify().findings == ()


def test_a_credit_line_across_two_kernels(kernels: tuple[Kernel, Kernel]) -> None:
    """A revolving line opened, drawn and repaid from two processes at once: opened once,
    and the line's state counts exactly the moves its books hold."""
    a, b = kernels
    body = {**APPLICATION, "product_id": "revolving-credit-line", "amount": 500_000}
    del body["payments"]
    application, _ = a.lending.submit(
        body, tenant_id=TENANT, applicant="alice", idempotency_key="line-1"
    )
    line_id = application.application_id
    a.lending.accept(line_id, tenant_id=TENANT, signer="alice")
    outcomes = _race(
        lambda: a.credit_lines.open(line_id, tenant_id=TENANT),
        lambda: b.credit_lines.open(line_id, tenant_id=TENANT),
    )
    assert sum(isinstance(o, dict) for o in outcomes) == 1, outcomes
    moves = []
    for round_ in range(3):
        for service in ("draw", "repay"):
            amount = 100_000 if service == "draw" else 30_000
            outcomes = _race(
                *(
                    partial(
                        getattr(kernel.credit_lines, service),
                        line_id,
                        {"amount": amount, "currency": "USD"},
                        tenant_id=TENANT,
                        owner=None,
                        idempotency_key=f"{service}-{side}-{round_}",
                    )
                    for side, kernel in (("a", a), ("b", b))
                )
            )
            moves += [o for o in outcomes if isinstance(o, tuple)]
            assert all(isinstance(o, tuple | Conflict) for o in outcomes), outcomes
    line = b.credit_lines.get(line_id)
    assert len(line.history) == len(moves) > 0
    receivable = b.accounting.get_account(TENANT, f"credit-line-{line_id}")
    assert receivable.balance == line.principal_balance
    assert a.accounting.trial_balance(TENANT)["balanced"]
    assert a.accounting.rebuild_check(TENANT).ok
    assert a.ledger.verify().ok
