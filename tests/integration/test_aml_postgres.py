"""AML on PostgreSQL for real: transfers posted through accounting raise a structuring
alert once, even with two monitors (two processes) racing over the same cursor; the alert
opens a case through the outbox and the ledger verifies."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote
from uuid import uuid4

import psycopg
import pytest

from paygod.accounting import AccountCode, AccountSpec
from paygod.accounting.model import TransferRequest
from paygod.aml.service import AmlService
from paygod.aml.stores.alerts import SqlAlertStore
from paygod.bootstrap import Kernel, build_kernel
from paygod.kernel.errors import Conflict
from paygod.kernel.settings import load_settings


@pytest.fixture
def kernel(postgres_url: str, tmp_path: Path) -> Iterator[Kernel]:
    schema = f"t_{uuid4().hex}"
    with psycopg.connect(postgres_url, autocommit=True) as admin:
        admin.execute(f"CREATE SCHEMA {schema}")
    url = f"{postgres_url}?options={quote(f'-csearch_path={schema}')}"
    built = build_kernel(load_settings(home=tmp_path / "home", database_url=url, redis_url=None))
    try:
        yield built
    finally:
        built.close()
        with psycopg.connect(postgres_url, autocommit=True) as admin:
            admin.execute(f"DROP SCHEMA {schema} CASCADE")


def test_two_monitors_raise_one_alert_that_opens_one_case(kernel: Kernel) -> None:
    specs = [AccountSpec(ledger="USD", code=AccountCode.ASSET, id="src")]
    specs += [AccountSpec(ledger="USD", code=AccountCode.LIABILITY, id=f"b{n}") for n in range(3)]
    kernel.accounting.open_accounts("default", specs)
    for n in range(3):
        kernel.accounting.transfer(
            "default",
            TransferRequest(
                id=f"s{n}", debit_account_id="src", credit_account_id=f"b{n}",
                amount=970_000 + n, ledger="USD",
            ),
        )  # fmt: skip
    other = AmlService(kernel.ledger, SqlAlertStore(kernel.db), kernel.clock)
    raised: list[int] = []
    conflicts: list[int] = []

    def run(service: AmlService) -> None:
        try:
            raised.append(len(service.catch_up()))
        except Conflict:
            conflicts.append(1)

    threads = [threading.Thread(target=run, args=(s,)) for s in (kernel.aml, other)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(raised) == 1 and len(raised) + len(conflicts) == 2
    (alert,) = kernel.aml.alerts("default")
    assert alert.typology == "structuring"
    assert [t["id"] for t in alert.payload["transactions"]] == ["s0", "s1", "s2"]
    # Whichever lost the race replays and finds nothing new.
    assert other.catch_up() == [] and kernel.aml.catch_up() == []
    kernel.executor.drain()
    (case,) = kernel.cases.list("default")
    assert case.alert_type == "aml.structuring" and case.subject == "src"
    assert kernel.ledger.verify().ok
