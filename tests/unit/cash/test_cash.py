"""Cash operations over the real accounting service (memory store, stand-in ledger)."""

from __future__ import annotations

import pytest

from paygod.accounting import AccountCode, AccountFlags, AccountSpec
from paygod.cash.service import CashService
from paygod.kernel.errors import InvalidInput, NotFound, Rejected
from tests.unit.accounting.support import memory_service


@pytest.fixture
def cash() -> CashService:
    accounting = memory_service()
    accounting.open_account(
        "t",
        AccountSpec(
            "EUR", AccountCode.LIABILITY, "alice", AccountFlags(debits_must_not_exceed_credits=True)
        ),
    )
    service = CashService(accounting)
    service.open_branch("t", "north", "EUR")
    service.open_till("t", "north", "t1", cash_limit=1000)
    return service


def test_deposit_withdraw_vault_and_books(cash: CashService) -> None:
    cash.deposit("t", "d1", "north", "t1", "alice", 700)
    cash.withdraw("t", "w1", "north", "t1", "alice", 200)
    cash.to_vault("t", "v1", "north", "t1", 300)
    branch = cash.branch("t", "north")
    assert branch.vault_balance == 300
    assert branch.tills[0].balance == 200 and branch.tills[0].cash_limit == 1000
    assert cash.accounting.get_account("t", "alice").balance == 500
    assert cash.accounting.rebuild_check("t").ok
    # A retried deposit is the same transfer, even though the limit changed meanwhile.
    again = cash.deposit("t", "d1", "north", "t1", "alice", 700)
    assert again["created"] is False


def test_cash_limit_refuses_with_reason_and_records_nothing(cash: CashService) -> None:
    cash.deposit("t", "d1", "north", "t1", "alice", 900)
    before = len(cash.accounting.ledger.recorded)  # type: ignore[attr-defined]
    with pytest.raises(Rejected) as refused:
        cash.deposit("t", "d2", "north", "t1", "alice", 101)
    assert refused.value.instance_code == "cash-limit-exceeded"
    assert refused.value.errors[0].pointer == "/amount"
    assert refused.value.extra == {"cash_limit": 1000, "balance": 900}
    assert len(cash.accounting.ledger.recorded) == before  # type: ignore[attr-defined]
    cash.deposit("t", "d3", "north", "t1", "alice", 100)  # exactly at the limit


def test_a_till_cannot_pay_out_more_than_it_holds(cash: CashService) -> None:
    cash.deposit("t", "d1", "north", "t1", "alice", 100)
    with pytest.raises(Rejected) as refused:
        cash.to_vault("t", "v1", "north", "t1", 101)
    assert refused.value.instance_code == "exceeds_debits"


def test_end_of_day_count_posts_over_and_short(cash: CashService) -> None:
    cash.deposit("t", "d1", "north", "t1", "alice", 500)
    short = cash.count("t", "north", "t1", declared=480, id="eod-1")
    assert short.as_dict()["result"] == "short" and short.difference == -20
    branch = cash.branch("t", "north")
    assert branch.tills[0].balance == 480 and branch.over_short_balance == 20
    assert cash.count("t", "north", "t1", declared=480, id="eod-1") == short  # a retry
    over = cash.count("t", "north", "t1", declared=485, id="eod-2")
    assert over.difference == 5 and cash.branch("t", "north").over_short_balance == 15
    even = cash.count("t", "north", "t1", declared=485, id="eod-3")
    assert even.transfer_id is None and even.as_dict()["result"] == "balanced"
    kinds = [r.kind for r in cash.accounting.ledger.recorded]  # type: ignore[attr-defined]
    assert kinds.count("cash_count") == 3


def test_bad_input(cash: CashService) -> None:
    with pytest.raises(InvalidInput):
        cash.open_branch("t", "a.b", "EUR")
    with pytest.raises(InvalidInput):
        cash.deposit("t", "x", "north", "t1", "alice", 0)
    with pytest.raises(InvalidInput):
        cash.count("t", "north", "t1", declared=-1)
    with pytest.raises(NotFound):
        cash.deposit("t", "x", "north", "nope", "alice", 1)
    with pytest.raises(NotFound):
        cash.branch("t", "south")
