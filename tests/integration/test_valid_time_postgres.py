"""Backdated postings on PostgreSQL from several processes: the check is race-free.

A wallet funded 100, then spent 90, then topped up by 1000: today it holds 1010, but
between the spend and the top-up it held 10. Two processes each try five backdated
debits of 8 valid before the spend. Each alone fits; any two together would have left the
wallet at -6 after the spend. Exactly one may be accepted, whatever the interleaving.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from paygod.accounting import AccountCode, AccountFlags, AccountSpec, TransferRequest
from paygod.bootstrap import Kernel, build_kernel
from paygod.kernel.clock import isoformat, parse_instant
from paygod.kernel.errors import Rejected
from paygod.kernel.settings import load_settings
from tests.unit.accounting.support import postgres_schema


def _kernel(url: str, home: Path) -> Kernel:
    return build_kernel(load_settings(home=home, database_url=url))


@pytest.fixture
def pg(postgres_url: str, tmp_path: Path) -> Iterator[tuple[str, Path]]:
    with postgres_schema(postgres_url) as url:
        yield url, tmp_path / "home"


def _backdater(url: str, home: str, worker: int, valid: str, out: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    kernel = _kernel(url, Path(home))
    accepted = 0
    try:
        for i in range(5):
            request = TransferRequest(
                f"b{worker}-{i}", "wallet", "bank", 8, valid_from=parse_instant(valid)
            )
            try:
                kernel.accounting.transfer("t", request)
                accepted += 1
            except Rejected as exc:
                assert exc.instance_code == "exceeds_credits"
                assert exc.errors[0].pointer == "/valid_from"
    finally:
        kernel.close()
    out.put(accepted)


def test_concurrent_backdated_postings_never_break_a_past_balance(pg: tuple[str, Path]) -> None:
    url, home = pg
    kernel = _kernel(url, home)
    try:
        acc = kernel.accounting
        never_negative = AccountFlags(debits_must_not_exceed_credits=True)
        acc.open_accounts(
            "t",
            [
                AccountSpec("EUR", AccountCode.LIABILITY, "wallet", never_negative),
                AccountSpec("EUR", AccountCode.ASSET, "bank"),
            ],
        )
        fund = acc.transfer("t", TransferRequest("fund", "bank", "wallet", 100)).transfer
        acc.transfer("t", TransferRequest("spend", "wallet", "bank", 90))
        acc.transfer("t", TransferRequest("topup", "bank", "wallet", 1000))
        assert fund is not None
        valid = isoformat(fund.timestamp + timedelta(microseconds=1))
    finally:
        kernel.close()
    ctx = multiprocessing.get_context("spawn")
    out: multiprocessing.Queue = ctx.Queue()  # type: ignore[type-arg]
    procs = [ctx.Process(target=_backdater, args=(url, str(home), w, valid, out)) for w in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    assert out.get() + out.get() == 1
    kernel = _kernel(url, home)
    try:
        spend = kernel.accounting.get_transfer("t", "spend")
        after_spend = kernel.accounting.valid_balance("t", "wallet", spend.timestamp)
        assert after_spend.balance == 2
        assert kernel.accounting.get_account("t", "wallet").balance == 1002
        assert kernel.accounting.rebuild_check("t").ok
    finally:
        kernel.close()
