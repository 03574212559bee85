"""The accounting service end to end over memory and SQLite: every write is in the ledger."""

from __future__ import annotations

import threading
from datetime import timedelta
from pathlib import Path

import pytest

from paygod.accounting import (
    AccountCode,
    AccountFlags,
    AccountingService,
    AccountSpec,
    TransferFlags,
    TransferRequest,
    TransferState,
)
from paygod.kernel.clock import ManualClock
from paygod.kernel.errors import Conflict, InvalidInput, NotFound, Rejected
from tests.unit.accounting.support import START, memory_service, sqlite_service

NEVER_NEGATIVE = AccountFlags(debits_must_not_exceed_credits=True)


@pytest.fixture(params=["memory", "sqlite"])
def clock_and_service(
    request: pytest.FixtureRequest, tmp_path: Path
) -> tuple[ManualClock, AccountingService]:
    clock = ManualClock(START)
    if request.param == "memory":
        return clock, memory_service(clock)
    return clock, sqlite_service(tmp_path / "acc.db", clock)


@pytest.fixture
def service(clock_and_service: tuple[ManualClock, AccountingService]) -> AccountingService:
    return clock_and_service[1]


def open_pair(svc: AccountingService, ledger: str = "EUR") -> None:
    svc.open_accounts(
        "t",
        [
            AccountSpec(ledger, AccountCode.LIABILITY, id="wallet", flags=NEVER_NEGATIVE),
            AccountSpec(ledger, AccountCode.ASSET, id="bank"),
        ],
    )


def test_transfer_moves_money_and_is_sealed(service: AccountingService) -> None:
    open_pair(service)
    result = service.transfer("t", TransferRequest("fund", "bank", "wallet", 500))
    assert result.created
    assert service.get_account("t", "wallet").balance == 500
    assert service.get_account("t", "bank").balance == 500
    entries = service.ledger.history("fund", tenant_id="t")
    assert [e.payload["action"] for e in entries] == ["post"]
    assert service.rebuild_check().ok


def test_idempotent_account_and_transfer(service: AccountingService) -> None:
    open_pair(service)
    again = service.open_account("t", AccountSpec("EUR", AccountCode.ASSET, id="bank"))
    assert again[1] is False
    with pytest.raises(Conflict) as exc:
        service.open_account("t", AccountSpec("USD", AccountCode.ASSET, id="bank"))
    assert exc.value.instance_code == "exists_with_different_ledger"
    service.transfer("t", TransferRequest("fund", "bank", "wallet", 500))
    n = len(service.ledger.entries(limit=1000))
    retry = service.transfer("t", TransferRequest("fund", "bank", "wallet", 500))
    assert not retry.created and len(service.ledger.entries(limit=1000)) == n
    with pytest.raises(Conflict) as exc:
        service.transfer("t", TransferRequest("fund", "bank", "wallet", 501))
    assert exc.value.instance_code == "exists_with_different_amount"
    assert service.get_account("t", "wallet").balance == 500


def test_refusals_record_nothing(service: AccountingService) -> None:
    open_pair(service)
    open_pair_usd = AccountSpec("USD", AccountCode.ASSET, id="usd")
    service.open_account("t", open_pair_usd)
    before = len(service.ledger.entries(limit=1000))
    cases: list[tuple[TransferRequest, type[Exception], str]] = [
        (TransferRequest("a", "bank", "wallet", 0), InvalidInput, "amount_must_not_be_zero"),
        (TransferRequest("b", "bank", "wallet", -1), InvalidInput, "amount_must_not_be_negative"),
        (TransferRequest("c", "bank", "wallet", 2**63), InvalidInput, "overflow"),
        (TransferRequest("d", "bank", "nope", 1), NotFound, "credit_account_not_found"),
        (TransferRequest("e", "usd", "wallet", 1), InvalidInput, "ledger_must_match"),
        (TransferRequest("f", "wallet", "bank", 1), Rejected, "exceeds_credits"),
    ]
    for req, kind, code in cases:
        with pytest.raises(kind) as exc:
            service.transfer("t", req)
        assert exc.value.instance_code == code  # type: ignore[attr-defined]
    assert len(service.ledger.entries(limit=1000)) == before
    assert service.list_transfers("t") == []


def test_tenants_are_isolated(service: AccountingService) -> None:
    open_pair(service)
    with pytest.raises(NotFound):
        service.transfer("other", TransferRequest("x", "bank", "wallet", 1))
    with pytest.raises(NotFound):
        service.get_account("other", "bank")


def test_hold_post_void_expire(clock_and_service: tuple[ManualClock, AccountingService]) -> None:
    clock, service = clock_and_service
    open_pair(service)
    service.transfer("t", TransferRequest("fund", "bank", "wallet", 100))
    hold = TransferFlags(pending=True)
    service.transfer("t", TransferRequest("h1", "wallet", "bank", 60, flags=hold))
    with pytest.raises(Rejected) as exc:
        service.transfer("t", TransferRequest("h2", "wallet", "bank", 60, flags=hold))
    assert exc.value.instance_code == "exceeds_credits"
    posted = service.post_pending("t", "h1", amount=25)
    assert posted.transfer is not None and posted.transfer.amount == 25
    assert service.get_account("t", "wallet").balance == 75
    assert service.post_pending("t", "h1", amount=25).created is False  # idempotent retry
    with pytest.raises(Rejected) as exc:
        service.void_pending("t", "h1")
    assert exc.value.instance_code == "pending_transfer_already_posted"
    service.transfer(
        "t", TransferRequest("h3", "wallet", "bank", 75, flags=hold, timeout_seconds=30)
    )
    assert service.get_account("t", "wallet").available == 0
    clock.advance(31)
    with pytest.raises(Rejected) as exc:
        service.post_pending("t", "h3")
    assert exc.value.instance_code == "pending_transfer_expired"
    # The refused post still ran the sweep in its transaction: the hold is released.
    assert service.get_transfer("t", "h3").state is TransferState.EXPIRED
    assert service.get_account("t", "wallet").available == 75
    assert service.expire_pending() == []
    service.transfer("t", TransferRequest("h4", "wallet", "bank", 5, flags=hold, timeout_seconds=1))
    clock.advance(2)
    assert service.expire_pending() == ["h4"]
    assert service.get_account("t", "wallet").debits_pending == 0
    assert service.rebuild_check().ok


def test_linked_batch_and_fx(service: AccountingService) -> None:
    service.open_accounts(
        "t",
        [
            AccountSpec("EUR", AccountCode.LIABILITY, id="alice-eur", flags=NEVER_NEGATIVE),
            AccountSpec("EUR", AccountCode.ASSET, id="fx-eur"),
            AccountSpec("USD", AccountCode.LIABILITY, id="fx-usd", flags=NEVER_NEGATIVE),
            AccountSpec("USD", AccountCode.LIABILITY, id="bob-usd"),
            AccountSpec("EUR", AccountCode.ASSET, id="bank-eur"),
            AccountSpec("USD", AccountCode.ASSET, id="bank-usd"),
        ],
    )
    service.transfer("t", TransferRequest("f1", "bank-eur", "alice-eur", 1000))
    # FX without USD liquidity: the USD leg fails, so the EUR leg is not recorded either.
    fx = [
        TransferRequest("fx1", "alice-eur", "fx-eur", 1000),
        TransferRequest("fx2", "fx-usd", "bob-usd", 1080),
    ]
    with pytest.raises(Rejected) as exc:
        service.submit_linked("t", fx)
    assert exc.value.errors[0].pointer == "/transfers/1/amount"
    assert service.get_account("t", "alice-eur").balance == 1000
    service.transfer("t", TransferRequest("f2", "bank-usd", "fx-usd", 5000))
    results = service.submit_linked("t", fx)
    assert all(r.created for r in results)
    assert service.get_account("t", "bob-usd").balance == 1080
    tb = service.trial_balance("t")
    assert tb["balanced"] and {x["ledger"] for x in tb["ledgers"]} == {"EUR", "USD"}


def test_reversal_balance_history_statement(
    clock_and_service: tuple[ManualClock, AccountingService],
) -> None:
    clock, service = clock_and_service
    open_pair(service)
    t0 = clock.now()
    service.transfer("t", TransferRequest("a", "bank", "wallet", 100, metadata={"reference": "R1"}))
    clock.advance(60)
    t1 = clock.now()
    service.transfer("t", TransferRequest("b", "bank", "wallet", 50))
    clock.advance(60)
    service.reverse("t", "a", amount=30)
    with pytest.raises(Rejected) as exc:
        service.reverse("t", "a", id="again", amount=71)
    assert exc.value.instance_code == "exceeds_reversible_amount"
    assert service.get_transfer("t", "a").reversed_amount == 30
    assert service.balance("t", "wallet", at=t0).balance == 100
    assert service.balance("t", "wallet", at=t0 - timedelta(seconds=1)).balance == 0
    assert service.balance("t", "wallet", at=t1).balance == 150
    assert service.balance("t", "wallet").balance == 120
    st = service.statement("t", "wallet", t1, clock.now() + timedelta(seconds=1))
    assert (st.opening, st.closing) == (100, 120)
    assert [line.transfer_id for line in st.lines] == ["b", "a.reversal"]
    assert service.statement("t", "wallet", t0, t1).lines[0].reference == "R1"
    csv_text = service.export_transfers("t", "csv")
    assert csv_text.splitlines()[0].startswith("id,timestamp,state")
    assert len(csv_text.splitlines()) == 4


def test_reversal_retry_is_idempotent(service: AccountingService) -> None:
    open_pair(service)
    service.transfer("t", TransferRequest("pay", "bank", "wallet", 40))
    first = service.reverse("t", "pay")
    again = service.reverse("t", "pay")
    assert first.created and not again.created and again.transfer == first.transfer
    assert service.get_account("t", "wallet").balance == 0


def test_close_account(service: AccountingService) -> None:
    open_pair(service)
    service.close_account("t", "wallet")
    with pytest.raises(Rejected) as exc:
        service.transfer("t", TransferRequest("x", "bank", "wallet", 1))
    assert exc.value.instance_code == "account_closed"


def test_rebuild_check_detects_tampered_totals(service: AccountingService) -> None:
    open_pair(service)
    service.transfer("t", TransferRequest("fund", "bank", "wallet", 500))
    with service.store.reading() as session:
        wallet = service.get_account("t", "wallet")
    from dataclasses import replace

    def tamper(conn: object) -> tuple[None, list[object]]:
        service.store.session(conn).update_accounts([replace(wallet, credits_posted=499)])
        return None, []

    service.ledger.transact(tamper)
    report = service.rebuild_check()
    assert not report.ok and report.mismatches[0]["account_id"] == "wallet"
    del session


def test_concurrent_holds_never_overdraw(tmp_path: Path) -> None:
    service = sqlite_service(tmp_path / "c.db")
    open_pair(service)
    service.transfer("t", TransferRequest("fund", "bank", "wallet", 1000))
    errors: list[str] = []

    def spend(worker: int) -> None:
        for i in range(20):
            try:
                service.transfer("t", TransferRequest(f"w{worker}-{i}", "wallet", "bank", 7))
                # Every transfer retried once: idempotency must not double-post it.
                service.transfer("t", TransferRequest(f"w{worker}-{i}", "wallet", "bank", 7))
            except Rejected as exc:
                errors.append(exc.instance_code)

    threads = [threading.Thread(target=spend, args=(w,)) for w in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wallet = service.get_account("t", "wallet")
    posted = [t for t in service.list_transfers("t", limit=1000) if t.id != "fund"]
    assert wallet.balance == 1000 - 7 * len(posted) >= 0
    assert len(posted) == 142  # 1000 // 7: every unit that could move, moved once
    assert set(errors) == {"exceeds_credits"}
    assert service.rebuild_check().ok
