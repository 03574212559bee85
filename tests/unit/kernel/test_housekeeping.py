from __future__ import annotations

from paygod.accounting import AccountCode, AccountSpec, TransferFlags
from paygod.accounting.model import TransferRequest, TransferState
from paygod.bootstrap import Kernel
from paygod.kernel.clock import ManualClock
from paygod.kernel.periodic import Housekeeping, PeriodicTask
from tests.unit.accounting.support import START


def test_tasks_run_when_due_and_a_failure_keeps_the_schedule() -> None:
    runs: list[str] = []

    def broken() -> None:
        raise ConnectionError("store down")

    house = Housekeeping(
        [
            PeriodicTask("count", 10.0, lambda: runs.append("count")),
            PeriodicTask("broken", 5.0, broken),
        ]
    )
    assert house.run_due(now=100.0) == ["count"]  # the broken one is logged, not raised
    assert house.run_due(now=104.0) == []
    assert house.run_due(now=105.0) == []  # broken is due again but fails again
    assert house.run_due(now=110.0) == ["count"]
    assert runs == ["count", "count"]


def test_the_kernel_releases_expired_holds_on_its_own(standalone_kernel: Kernel) -> None:
    kernel = standalone_kernel
    clock = ManualClock(START)
    kernel.accounting.clock = clock
    kernel.accounting.open_accounts(
        "t",
        [
            AccountSpec(ledger="EUR", code=AccountCode.ASSET, id="bank"),
            AccountSpec(ledger="EUR", code=AccountCode.LIABILITY, id="wallet"),
        ],
    )
    kernel.accounting.transfer("t", TransferRequest("fund", "bank", "wallet", 100))
    hold = TransferFlags(pending=True)
    kernel.accounting.transfer(
        "t", TransferRequest("h1", "wallet", "bank", 40, flags=hold, timeout_seconds=30)
    )
    names = [t.name for t in kernel.housekeeping.tasks]
    assert names == [
        "accounting.expire_holds",
        "credit.assess_loans",
        "credit.expire_offers",
        "accounting.close_periods",
        "privacy.retention",
        "contauth.purge_features",
        "aml.catch_up",
        "documents.expire",
    ]
    kernel.housekeeping.run_due(now=0.0)
    assert kernel.accounting.get_transfer("t", "h1").state is TransferState.PENDING
    clock.advance(31)
    kernel.housekeeping.run_due(now=10.0)  # the next sweep, no request involved
    assert kernel.accounting.get_transfer("t", "h1").state is TransferState.EXPIRED
    assert kernel.accounting.get_account("t", "wallet").available == 100
    # The AML monitor ran with the sweeps, no request involved: its cursor is at the
    # ledger's end.
    assert kernel.aml.store.cursor() >= 0
