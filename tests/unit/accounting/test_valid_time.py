"""Backdated postings (valid time) against a brute-force oracle.

The oracle keeps every posting with its valid and recorded instants and answers by full
scans: a backdated posting is accepted iff, at every instant from its valid time to now,
the limited side of each flagged account stays within the other side; the balance at
(valid T, recorded T') is the sum of postings valid at or before T and recorded at or
before T'. The service must agree on every decision and every balance.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from paygod.accounting import AccountCode, AccountFlags, AccountSpec, TransferRequest
from paygod.accounting.service import AccountingService
from paygod.kernel.clock import ManualClock
from paygod.kernel.errors import InvalidInput, Rejected
from tests.unit.accounting.support import START, memory_service, sqlite_service

WALLET = AccountFlags(debits_must_not_exceed_credits=True)
CARD = AccountFlags(credits_must_not_exceed_debits=True)
ACCOUNTS = {"wallet": WALLET, "card": CARD, "bank": AccountFlags(), "fees": AccountFlags()}


@dataclass
class Oracle:
    opened: dict[str, datetime] = field(default_factory=dict)
    # (account, valid_at, recorded_at, debit, credit)
    postings: list[tuple[str, datetime, datetime, int, int]] = field(default_factory=list)

    def totals(self, account: str, valid: datetime, recorded: datetime) -> tuple[int, int]:
        d = c = 0
        for a, v, r, dd, cc in self.postings:
            if a == account and v <= valid and r <= recorded:
                d, c = d + dd, c + cc
        return d, c

    def allowed(self, debit: str, credit: str, amount: int, valid: datetime) -> bool:
        if valid < self.opened[debit] or valid < self.opened[credit]:
            return False
        instants = {valid} | {v for _, v, _, _, _ in self.postings if v >= valid}
        far = datetime.max.replace(tzinfo=valid.tzinfo)
        for t in instants:
            if ACCOUNTS[debit].debits_must_not_exceed_credits:
                d, c = self.totals(debit, t, far)
                if d + amount > c:
                    return False
            if ACCOUNTS[credit].credits_must_not_exceed_debits:
                d, c = self.totals(credit, t, far)
                if c + amount > d:
                    return False
        return True


def _open(service: AccountingService, clock: ManualClock, oracle: Oracle) -> None:
    for name, flags in ACCOUNTS.items():
        code = AccountCode.ASSET if name in ("card", "bank") else AccountCode.LIABILITY
        service.open_account("t", AccountSpec("EUR", code, name, flags))
        oracle.opened[name] = clock.now()
        clock.advance(60)


ops = st.lists(
    st.tuples(
        st.sampled_from(sorted(ACCOUNTS)),
        st.sampled_from(sorted(ACCOUNTS)),
        st.integers(min_value=1, max_value=300),
        st.one_of(st.none(), st.integers(min_value=0, max_value=3000)),  # seconds back
        st.integers(min_value=0, max_value=200),  # seconds the clock moves afterwards
    ),
    min_size=1,
    max_size=40,
)


def run_against_oracle(service: AccountingService, clock: ManualClock, steps: list[tuple]) -> int:
    """Apply `steps`; assert every decision and a sample of balances; return checks made."""
    oracle = Oracle()
    _open(service, clock, oracle)
    checks = 0
    for i, (debit, credit, amount, back, move) in enumerate(steps):
        if debit == credit:
            continue
        now = clock.now()
        valid = None if back is None else now - timedelta(seconds=back)
        request = TransferRequest(f"t{i}", debit, credit, amount, "EUR", valid_from=valid)
        expected = oracle.allowed(debit, credit, amount, valid or now)
        try:
            service.transfer("t", request)
            accepted = True
        except (Rejected, InvalidInput):
            accepted = False
        assert accepted == expected, (i, debit, credit, amount, back)
        checks += 1
        if accepted:
            at = valid or now
            oracle.postings.append((debit, at, now, amount, 0))
            oracle.postings.append((credit, at, now, 0, amount))
        clock.advance(move)
        # Balances on both axes at instants around what happened so far.
        probe = [now - timedelta(seconds=s) for s in (0, 1, 500, 2000, 4000)]
        for account in ACCOUNTS:
            for valid_at in probe[::2]:
                for recorded_at in probe[::2]:
                    got = service.valid_balance("t", account, valid_at, recorded_at)
                    want = oracle.totals(account, valid_at, recorded_at)
                    assert (got.debits_posted, got.credits_posted) == want
                    checks += 1
    # The present-tense totals agree with valid time "now as known now".
    for account in ACCOUNTS:
        a = service.get_account("t", account)
        now_totals = service.valid_balance("t", account)
        assert (a.debits_posted, a.credits_posted) == (
            now_totals.debits_posted,
            now_totals.credits_posted,
        )
        checks += 1
    return checks


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(steps=ops)
def test_memory_service_matches_the_oracle(steps: list[tuple]) -> None:
    clock = ManualClock(START)
    assert run_against_oracle(memory_service(clock), clock, steps) > 0


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(steps=ops)
def test_sqlite_service_matches_the_oracle(
    steps: list[tuple], tmp_path_factory: pytest.TempPathFactory
) -> None:
    path: Path = tmp_path_factory.mktemp("vt") / "a.db"
    clock = ManualClock(START)
    assert run_against_oracle(sqlite_service(path, clock), clock, steps) > 0


def _funded(service: AccountingService, clock: ManualClock) -> None:
    _open(service, clock, Oracle())
    clock.advance(3600)
    service.transfer("t", TransferRequest("fund", "bank", "wallet", 100, "EUR"))
    clock.advance(3600)
    service.transfer("t", TransferRequest("spend", "wallet", "fees", 80, "EUR"))
    clock.advance(3600)
    service.transfer("t", TransferRequest("topup", "bank", "wallet", 100, "EUR"))
    clock.advance(3600)


def test_a_backdated_debit_that_would_have_overdrawn_names_the_first_instant() -> None:
    clock = ManualClock(START)
    service = memory_service(clock)
    _funded(service, clock)
    spend_at = START + timedelta(seconds=240 + 7200)
    # 120 is there now, but only 20 was left after the spend: 30 backdated before the spend
    # fits the final balance and breaks the one in between.
    with pytest.raises(Rejected) as refused:
        service.transfer(
            "t",
            TransferRequest(
                "late", "wallet", "fees", 30, "EUR", valid_from=spend_at - timedelta(minutes=5)
            ),
        )
    error = refused.value
    assert error.instance_code == "exceeds_credits"
    assert error.errors[0].pointer == "/valid_from"
    assert error.extra["instant"] == "2026-01-01T14:04:00.000000Z"
    assert error.extra["account_id"] == "wallet"
    # Nothing was recorded.
    assert service.get_account("t", "wallet").debits_posted == 80
    # 20 fits at every instant since.
    ok = service.transfer(
        "t",
        TransferRequest(
            "late2", "wallet", "fees", 20, "EUR", valid_from=spend_at - timedelta(minutes=5)
        ),
    )
    assert ok.transfer is not None and ok.transfer.valid_from is not None
    before = service.valid_balance("t", "wallet", spend_at - timedelta(minutes=1))
    assert before.balance == 80  # 100 funded, 20 backdated before the spend
    as_known_then = service.valid_balance(
        "t", "wallet", spend_at - timedelta(minutes=1), spend_at + timedelta(minutes=1)
    )
    assert as_known_then.balance == 100


def test_a_backdated_posting_before_the_account_was_opened_is_refused() -> None:
    clock = ManualClock(START)
    service = memory_service(clock)
    _funded(service, clock)
    with pytest.raises(Rejected) as refused:
        service.transfer(
            "t",
            TransferRequest("x", "bank", "wallet", 1, "EUR", valid_from=START - timedelta(1)),
        )
    assert refused.value.instance_code == "valid_from_before_account_opened"
    assert refused.value.errors[0].pointer == "/valid_from"


def test_a_future_valid_from_and_a_backdated_hold_are_invalid() -> None:
    clock = ManualClock(START)
    service = memory_service(clock)
    _funded(service, clock)
    future = clock.now() + timedelta(minutes=1)
    with pytest.raises(InvalidInput) as refused:
        service.transfer("t", TransferRequest("f", "bank", "wallet", 1, "EUR", valid_from=future))
    assert refused.value.instance_code == "valid_from_in_future"
    from paygod.accounting import TransferFlags

    with pytest.raises(InvalidInput) as held:
        service.transfer(
            "t",
            TransferRequest(
                "h",
                "bank",
                "wallet",
                1,
                "EUR",
                flags=TransferFlags(pending=True),
                valid_from=START + timedelta(hours=1),
            ),
        )
    assert held.value.instance_code == "valid_from_reserved_for_posted_transfer"


def test_a_retry_with_a_different_valid_from_is_a_conflict() -> None:
    from paygod.kernel.errors import Conflict

    clock = ManualClock(START)
    service = memory_service(clock)
    _funded(service, clock)
    at = START + timedelta(hours=2)
    service.transfer("t", TransferRequest("b", "bank", "wallet", 5, "EUR", valid_from=at))
    again = service.transfer("t", TransferRequest("b", "bank", "wallet", 5, "EUR", valid_from=at))
    assert again.created is False
    with pytest.raises(Conflict) as differs:
        service.transfer("t", TransferRequest("b", "bank", "wallet", 5, "EUR"))
    assert differs.value.instance_code == "exists_with_different_valid_from"


def test_the_ledger_entry_carries_valid_from() -> None:
    clock = ManualClock(START)
    service = memory_service(clock)
    _funded(service, clock)
    at = START + timedelta(hours=2)
    service.transfer("t", TransferRequest("b", "bank", "wallet", 5, "EUR", valid_from=at))
    entry = service.ledger.history("b")[-1]
    assert entry.payload["valid_from"] == "2026-01-01T14:00:00.000000Z"


def test_the_migration_backfill_rebuilds_the_postings_of_existing_books(tmp_path: Path) -> None:
    """Books written before valid time existed: their postings are derived from the posted
    transfers (a partially posted hold counts its posted part once)."""
    import importlib
    import sqlite3

    from paygod.accounting import TransferFlags

    clock = ManualClock(START)
    path = tmp_path / "b.db"
    service = sqlite_service(path, clock)
    _funded(service, clock)
    service.transfer(
        "t",
        TransferRequest("h", "wallet", "fees", 50, "EUR", flags=TransferFlags(pending=True)),
    )
    clock.advance(10)
    service.post_pending("t", "h", amount=30)
    service.transfer(
        "t",
        TransferRequest("h2", "wallet", "fees", 5, "EUR", flags=TransferFlags(pending=True)),
    )
    service.void_pending("t", "h2")
    service.reverse("t", "spend", amount=10)
    clock.advance(10)
    probes = [START + timedelta(minutes=m) for m in (0, 5, 70, 130, 190, 250, 400)]

    def snapshot() -> list[tuple[int, int]]:
        return [
            (b.debits_posted, b.credits_posted)
            for a in ACCOUNTS
            for v in probes
            for b in [service.valid_balance("t", a, v, clock.now())]
        ]

    before = snapshot()
    migration = importlib.import_module(
        "paygod.accounting.migrations.versions.accounting_0003_valid_time"
    )
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("DELETE FROM accounting_postings")
    conn.execute(migration.BACKFILL)
    conn.close()
    assert snapshot() == before
    assert any(d or c for d, c in before)


def _grid(service: AccountingService, clock: ManualClock) -> list[tuple[int, int]]:
    instants = [START + timedelta(minutes=m) for m in range(-1, 400, 17)] + [clock.now()]
    return [
        (b.debits_posted, b.credits_posted)
        for a in ACCOUNTS
        for v in instants
        for r in instants
        for b in [service.valid_balance("t", a, v, r)]
    ]


@pytest.mark.parametrize("store", ["memory", "sqlite"])
def test_the_postings_index_rebuilt_from_the_transfer_rows_answers_the_same(
    store: str, tmp_path: Path
) -> None:
    """After a projection rebuild or a restore the postings come back from the transfer
    rows, backdated ones at their valid time, holds only as posted: every balance on both
    axes is what it was."""
    from paygod.accounting import TransferFlags

    clock = ManualClock(START)
    service = (
        memory_service(clock) if store == "memory" else sqlite_service(tmp_path / "a.db", clock)
    )
    _funded(service, clock)
    late = START + timedelta(seconds=240 + 7200) - timedelta(minutes=5)
    service.transfer("t", TransferRequest("late", "wallet", "fees", 20, "EUR", valid_from=late))
    hold = TransferRequest("h", "wallet", "fees", 50, "EUR", flags=TransferFlags(pending=True))
    service.transfer("t", hold)
    clock.advance(600)
    service.post_pending("t", "h", amount=30)
    service.reverse("t", "spend", amount=10)
    clock.advance(600)
    before = _grid(service, clock)
    assert service.rebuild_postings() == 2 * 6  # fund, spend, topup, late, h's post, reversal
    assert _grid(service, clock) == before
