"""A payment is recorded once, however many requests create it at once, and its hold
moves with the state that explains it, in one transaction — on SQLite and PostgreSQL.

Creating a payment holds no lock across its steps (they may run on an event loop); the
payee row written in the payment's own transaction is its claim on its id."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote
from uuid import uuid4

import psycopg
import pytest

from paygod.bootstrap import Kernel, build_kernel
from paygod.kernel.settings import load_settings
from paygod.ledger.steps import run_async
from paygod.payments.model import PaymentStatus
from paygod.payments.service import subject_of
from tests.support.accounts import open_funded_payer

PAYEE = {"name": "Vendor", "account_number": "000123456789", "routing_number": "021000021"}
BODY = {
    "payer_account": "agent-1",
    "payee": PAYEE,
    "amount": 2_500,
    "currency": "USD",
    "purpose": "invoice 7",
    "metadata": {"counterparty_verified": True},
}


@pytest.fixture(params=["sqlite", "postgres"])
def kernel(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Kernel]:
    if request.param == "sqlite":
        built = build_kernel(load_settings(home=tmp_path / "home", database_url=None))
        try:
            open_funded_payer(built.accounting, amount=1_000_000)
            yield built
        finally:
            built.close()
        return
    postgres_url: str = request.getfixturevalue("postgres_url")
    schema = f"t_{uuid4().hex}"
    with psycopg.connect(postgres_url, autocommit=True) as admin:
        admin.execute(f"CREATE SCHEMA {schema}")
    url = f"{postgres_url}?options={quote(f'-csearch_path={schema}')}"
    built = build_kernel(load_settings(home=tmp_path / "home", database_url=url, redis_url=None))
    try:
        open_funded_payer(built.accounting, amount=1_000_000)
        yield built
    finally:
        built.close()
        with psycopg.connect(postgres_url, autocommit=True) as admin:
            admin.execute(f"DROP SCHEMA {schema} CASCADE")


def _recorded_once(kernel: Kernel, payment_id: str) -> None:
    transitions = [
        e.payload["transition"]
        for e in kernel.ledger.history(subject_of(payment_id))
        if e.kind == "payment"
    ]
    assert transitions == ["requested", "decided", "held"]
    payer = kernel.accounting.get_account("default", "agent-1")
    assert payer.debits_pending == 2_500  # one hold, not one per request


def test_requests_racing_on_threads_record_the_payment_once(kernel: Kernel) -> None:
    results: list[tuple[str, bool]] = []
    lock = threading.Lock()
    start = threading.Barrier(12)

    def create() -> None:
        start.wait()
        payment, created = kernel.payments.create(
            BODY, tenant_id="default", requested_by="agent", idempotency_key="race-1"
        )
        with lock:
            results.append((payment.payment_id, created))

    threads = [threading.Thread(target=create) for _ in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len({pid for pid, _ in results}) == 1
    assert sum(created for _, created in results) == 1
    _recorded_once(kernel, results[0][0])
    assert kernel.ledger.verify().ok


def test_requests_racing_on_one_event_loop_record_the_payment_once(kernel: Kernel) -> None:
    async def race() -> list[tuple[object, bool]]:
        return await asyncio.gather(
            *(
                run_async(
                    kernel.ledger,
                    kernel.payments.create_steps(
                        BODY, tenant_id="default", requested_by="agent", idempotency_key="race-2"
                    ),
                )
                for _ in range(8)
            )
        )

    results = asyncio.run(race())
    ids = {payment.payment_id for payment, _ in results}  # type: ignore[attr-defined]
    assert len(ids) == 1
    assert [created for _, created in results].count(True) == 1
    _recorded_once(kernel, ids.pop())


def test_a_settled_payment_and_its_posted_hold_commit_in_one_transaction(
    kernel: Kernel,
) -> None:
    payment, _ = kernel.payments.create(
        BODY, tenant_id="default", requested_by="agent", idempotency_key="settle-1"
    )
    assert payment.status is PaymentStatus.HELD
    kernel.executor.drain()
    assert kernel.payments.get(payment.payment_id).status is PaymentStatus.SETTLED
    entries = kernel.ledger.entries(limit=10_000)
    settled = next(
        e
        for e in entries
        if e.kind == "payment"
        and e.payload["transition"] == "settled"
        and e.subject == subject_of(payment.payment_id)
    )
    posted = [e for e in entries if e.payload.get("transfer_id") == f"{payment.hold_id}.post"]
    assert len(posted) == 1
    # One transaction: consecutive seqs, one transaction time.
    assert posted[0].seq < settled.seq
    assert posted[0].recorded_at == settled.recorded_at
    payer = kernel.accounting.get_account("default", "agent-1")
    assert (payer.debits_pending, payer.debits_posted) == (0, 2_500)
    assert kernel.ledger.verify().ok
