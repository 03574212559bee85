"""Reconciliation: exact reference first, then amount within the date window."""

from __future__ import annotations

import pytest

from paygod.accounting import AccountCode, AccountSpec, TransferRequest
from paygod.accounting.reconciliation import Reconciler, parse_statement
from paygod.kernel.clock import ManualClock
from paygod.kernel.errors import InvalidInput
from tests.unit.accounting.support import START, memory_service


def test_parse_statement_major_and_minor_units() -> None:
    lines = parse_statement("Date,Amount,Reference\n2026-01-01,12.34,A\n2026-01-02,-500,B\n", "EUR")
    assert [(x.amount, x.reference) for x in lines] == [(1234, "A"), (-500, "B")]
    with pytest.raises(InvalidInput):
        parse_statement("date,amount,reference\n2026-01-01,1.234,A\n", "EUR")
    with pytest.raises(InvalidInput):
        parse_statement("date,amount\n2026-01-01,1\n", "EUR")
    with pytest.raises(InvalidInput):
        parse_statement("date,amount,reference\nyesterday,1,A\n", "EUR")


def test_reconcile_matches_and_records() -> None:
    clock = ManualClock(START)
    svc = memory_service(clock)
    svc.open_accounts(
        "t",
        [
            AccountSpec("EUR", AccountCode.ASSET, id="bank"),
            AccountSpec("EUR", AccountCode.LIABILITY, id="customer"),
        ],
    )
    svc.transfer(
        "t", TransferRequest("d1", "bank", "customer", 1000, metadata={"reference": "INV-1"})
    )
    clock.advance(86400)
    svc.transfer("t", TransferRequest("d2", "bank", "customer", 250))
    svc.transfer("t", TransferRequest("w1", "customer", "bank", 75))
    statement = (
        "date,amount,reference\n"
        "2026-01-01,10.00,INV-1\n"  # by reference
        "2026-01-03,2.50,bank-ref-x\n"  # by amount, one day off
        "2026-01-02,9.99,unknown\n"  # nothing in the ledger
    )
    reconciler = Reconciler(svc)
    report = reconciler.reconcile("t", "bank", statement)
    assert [(m["line"], m["transfer_id"], m["method"]) for m in report["matched"]] == [
        (1, "d1", "reference"),
        (2, "d2", "amount_date"),
    ]
    assert [x["line"] for x in report["unmatched_statement_lines"]] == [3]
    assert [x["transfer_id"] for x in report["unmatched_transfers"]] == ["w1"]
    assert report["difference"] == (1000 + 250 + 999) - (1000 + 250 - 75)
    stored = reconciler.get("t", report["id"])
    assert stored["difference"] == str(report["difference"])
    assert svc.ledger.history(report["id"], tenant_id="t")[0].kind == "reconciliation"
    strict = reconciler.reconcile("t", "bank", statement, window_days=0)
    assert [m["method"] for m in strict["matched"]] == ["reference"]
