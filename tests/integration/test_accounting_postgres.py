"""Accounting on PostgreSQL with the real ledger: several processes, one set of books.

Never negative, nothing lost, nothing doubled: every process spends from the same
never-negative wallet and retries every transfer; afterwards the balance equals the
funded amount minus exactly the recorded transfers, and the totals rebuilt from the
ledger entries equal the running totals.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Iterator
from pathlib import Path

import pytest

from paygod.accounting import (
    AccountCode,
    AccountFlags,
    AccountSpec,
    TransferFlags,
    TransferRequest,
)
from paygod.bootstrap import Kernel, build_kernel
from paygod.kernel.errors import Rejected
from paygod.kernel.settings import load_settings
from tests.unit.accounting.support import postgres_schema

AMOUNT = 7
FUNDED = 1000


def _kernel(url: str, home: Path) -> Kernel:
    return build_kernel(load_settings(home=home, database_url=url))


@pytest.fixture
def pg(postgres_url: str, tmp_path: Path) -> Iterator[tuple[str, Path]]:
    with postgres_schema(postgres_url) as url:
        yield url, tmp_path / "home"


def _spender(url: str, home: str, worker: int, count: int, out: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    kernel = _kernel(url, Path(home))
    created = refused = 0
    try:
        for i in range(count):
            request = TransferRequest(f"w{worker}-{i}", "wallet", "bank", AMOUNT)
            for _attempt in range(2):  # every transfer is retried: it must post once
                try:
                    if kernel.accounting.transfer("t", request).created:
                        created += 1
                except Rejected as exc:
                    assert exc.instance_code == "exceeds_credits"
                    refused += 1
                    break
    finally:
        kernel.close()
    out.put((created, refused))


def test_processes_never_overdraw_lose_or_double(pg: tuple[str, Path]) -> None:
    url, home = pg
    kernel = _kernel(url, home)
    try:
        kernel.accounting.open_accounts(
            "t",
            [
                AccountSpec(
                    "EUR",
                    AccountCode.LIABILITY,
                    id="wallet",
                    flags=AccountFlags(debits_must_not_exceed_credits=True),
                ),
                AccountSpec("EUR", AccountCode.ASSET, id="bank"),
            ],
        )
        kernel.accounting.transfer("t", TransferRequest("fund", "bank", "wallet", FUNDED))
        ctx = multiprocessing.get_context("spawn")
        out = ctx.Queue()
        procs = [ctx.Process(target=_spender, args=(url, str(home), w, 45, out)) for w in range(4)]
        for p in procs:
            p.start()
        results = [out.get(timeout=120) for _ in procs]
        for p in procs:
            p.join(30)
            assert p.exitcode == 0
        created = sum(r[0] for r in results)
        wallet = kernel.accounting.get_account("t", "wallet")
        spent = [t for t in kernel.accounting.list_transfers("t", limit=1000) if t.id != "fund"]
        assert created == len(spent) == FUNDED // AMOUNT
        assert wallet.balance == FUNDED - AMOUNT * created >= 0
        report = kernel.accounting.rebuild_check("t")
        assert report.ok and report.entries_replayed == created + 1
        assert kernel.ledger.verify().ok
    finally:
        kernel.close()


def test_holds_expire_and_credits_on_postgres(pg: tuple[str, Path]) -> None:
    url, home = pg
    kernel = _kernel(url, home)
    try:
        credits = kernel.credits
        credits.purchase("acme", 50, key="p1")
        r = credits.reserve("acme", 40, ttl_seconds=60, key="r1")
        assert credits.balance("acme").available == 10
        credits.commit("acme", r.id, amount=15)
        assert credits.balance("acme").as_dict()["balance"] == 35
        accounting = kernel.accounting
        hold = TransferRequest(
            "h",
            "credits.balance",
            "credits.consumed",
            5,
            flags=TransferFlags(pending=True),
            timeout_seconds=1,
        )
        accounting.transfer("acme", hold)
        from datetime import timedelta

        expired = accounting.expire_pending(kernel.clock.now() + timedelta(seconds=2))
        assert expired == ["h"]
        assert credits.balance("acme").available == 35
        assert accounting.rebuild_check("acme").ok
    finally:
        kernel.close()
