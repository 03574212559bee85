"""Distributed mode for real: PostgreSQL system of record, Redis panic switch. Payments are
decided, held, claimed with FOR UPDATE SKIP LOCKED by two workers at once, sent exactly
once and settled; the panic switch in Redis freezes both workers."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote
from uuid import uuid4

import psycopg
import pytest

from paygod.bootstrap import Kernel, build_kernel
from paygod.executor.stores.outbox_sql import PostgresOutboxStore
from paygod.executor.stores.panic_redis import RedisPanicSwitch
from paygod.executor.worker import Worker
from paygod.kernel.settings import load_settings
from paygod.payments.model import PaymentStatus
from tests.support.accounts import open_funded_payer

PAYEE = {"name": "Vendor", "account_number": "000123456789", "routing_number": "021000021"}


@pytest.fixture
def kernel(postgres_url: str, redis_url: str, tmp_path: Path) -> Iterator[Kernel]:
    schema = f"t_{uuid4().hex}"
    with psycopg.connect(postgres_url, autocommit=True) as admin:
        admin.execute(f"CREATE SCHEMA {schema}")
    url = f"{postgres_url}?options={quote(f'-csearch_path={schema}')}"
    built = build_kernel(
        load_settings(home=tmp_path / "home", database_url=url, redis_url=redis_url)
    )
    switch = built.panic.switch
    assert isinstance(switch, RedisPanicSwitch)
    switch.key = f"test:panic:{schema}"  # tests run in parallel: one key each
    try:
        yield built
    finally:
        switch.client.delete(switch.key)
        built.close()
        with psycopg.connect(postgres_url, autocommit=True) as admin:
            admin.execute(f"DROP SCHEMA {schema} CASCADE")


def fund(kernel: Kernel) -> None:
    open_funded_payer(kernel.accounting, amount=10_000_000)


def pay(kernel: Kernel, i: int) -> str:
    payment, _ = kernel.payments.create(
        {
            "payer_account": "agent-1",
            "payee": PAYEE,
            "amount": 1_000 + i,
            "currency": "USD",
            "purpose": f"invoice {i}",
            "metadata": {"counterparty_verified": True},
        },
        tenant_id="default",
        requested_by="agent-bot",
        idempotency_key=f"pg-{i}",
    )
    assert payment.status is PaymentStatus.HELD
    return payment.payment_id


def test_two_workers_share_the_queue_and_send_each_payment_once(kernel: Kernel) -> None:
    assert isinstance(kernel.executor.store, PostgresOutboxStore)
    fund(kernel)
    ids = [pay(kernel, i) for i in range(10)]
    second = Worker(
        kernel.executor.store,
        kernel.panic.switch,
        kernel.clock,
        dict(kernel.executor.handlers),
        worker_id="second",
        batch=3,
    )
    kernel.executor.batch = 3
    threads = [threading.Thread(target=w.drain) for w in (kernel.executor, second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    rail = kernel.payments.connectors["ach"]
    for payment_id in ids:
        assert kernel.payments.get(payment_id).status is PaymentStatus.SETTLED
        assert rail.calls(payment_id) == 1  # type: ignore[attr-defined]
    assert kernel.executor.store.counts()["pending"] == 0
    assert kernel.ledger.verify().findings == ()


def test_redis_panic_switch_freezes_workers_and_is_recorded(kernel: Kernel) -> None:
    fund(kernel)
    kernel.panic.turn_on("incident 42", "ops")
    payment_id = pay(kernel, 1)
    assert kernel.executor.drain().frozen is True
    assert kernel.payments.get(payment_id).status is PaymentStatus.HELD
    kernel.panic.turn_off("ops")
    kernel.executor.drain()
    assert kernel.payments.get(payment_id).status is PaymentStatus.SETTLED
    assert [e.payload["on"] for e in kernel.ledger.history("panic-switch")] == [True, False]
