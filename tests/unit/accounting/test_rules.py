"""The transfer rules on the pure planner: every refusal code, holds, links, limits."""

from __future__ import annotations

from datetime import timedelta

import pytest

from paygod.accounting.model import (
    MAX_AMOUNT,
    Account,
    AccountCode,
    AccountFlags,
    TransferFlags,
    TransferRequest,
    TransferState,
)
from paygod.accounting.rules import Planner, validate_request
from tests.unit.accounting.support import START


def account(id: str, ledger: str = "EUR", **flags: bool) -> Account:
    return Account(id, "t", ledger, AccountCode.LIABILITY, START, AccountFlags(**flags))


def planner(*accounts: Account) -> Planner:
    base = accounts or (account("a", debits_must_not_exceed_credits=True), account("b"))
    return Planner("t", {a.id: a for a in base}, {}, START)


def tr(
    id: str, d: str = "b", c: str = "a", amount: int | None = 100, **kw: object
) -> TransferRequest:
    return TransferRequest(id, d, c, amount, **kw)  # type: ignore[arg-type]


def code_of(p: Planner, *reqs: TransferRequest) -> list[str | None]:
    return [r.error.code if r.error else None for r in p.run(reqs)]


@pytest.mark.parametrize(
    ("request_", "code"),
    [
        (tr("x", amount=0), "amount_must_not_be_zero"),
        (tr("x", amount=-5), "amount_must_not_be_negative"),
        (tr("x", amount=MAX_AMOUNT + 1), "overflow"),
        (tr("x", amount=1.5), "amount_must_be_an_integer"),  # type: ignore[arg-type]
        (tr("x", amount=True), "amount_must_be_an_integer"),
        (tr("x", metadata={"n": 2**60}), "metadata_invalid"),
        (tr("x", metadata={"f": float("nan")}), "metadata_invalid"),
        (tr("x", d="a", c="a"), "accounts_must_be_different"),
        (tr(""), "id_must_not_be_empty"),
        (tr("pay\u202eout"), "id_invalid"),
        (tr("a/../b"), "id_invalid"),
        (tr("nul\x00"), "id_invalid"),
        (tr("x", d=""), "debit_account_id_must_not_be_empty"),
        (tr("x", ledger="XXX"), "ledger_unknown"),
        (tr("x", timeout_seconds=5), "timeout_reserved_for_pending_transfer"),
        (
            tr("x", flags=TransferFlags(pending=True, post_pending=True)),
            "flags_are_mutually_exclusive",
        ),
        (tr("x", flags=TransferFlags(post_pending=True)), "pending_id_must_not_be_empty"),
        (
            tr("x", flags=TransferFlags(void_pending=True), pending_id="x"),
            "pending_id_must_be_different",
        ),
    ],
)
def test_stateless_refusals(request_: TransferRequest, code: str) -> None:
    error = validate_request(request_)
    assert error is not None and error.code == code


def test_state_refusals() -> None:
    p = planner(
        account("a", debits_must_not_exceed_credits=True),
        account("b"),
        account("usd", ledger="USD"),
        account("shut", closed=True),
        account("cap", credits_must_not_exceed_debits=True),
    )
    assert code_of(
        p,
        tr("1", d="nope"),
        tr("2", c="nope"),
        tr("3", c="usd"),
        tr("4", ledger="USD"),
        tr("5", c="shut"),
        tr("6", d="a", c="b"),
        tr("7", d="b", c="cap"),
    ) == [
        "debit_account_not_found",
        "credit_account_not_found",
        "ledger_must_match",
        "ledger_must_match",
        "account_closed",
        "exceeds_credits",
        "exceeds_debits",
    ]
    assert not p.records and not p.new_transfers


def test_limits_count_pending_holds() -> None:
    p = planner()
    assert code_of(p, tr("fund", amount=100)) == [None]
    hold = TransferFlags(pending=True)
    assert code_of(
        p,
        tr("h1", d="a", c="b", amount=60, flags=hold),
        tr("h2", d="a", c="b", amount=60, flags=hold),
        tr("h3", d="a", c="b", amount=40, flags=hold),
    ) == [None, "exceeds_credits", None]
    a = p.accounts["a"]
    assert (a.credits_posted, a.debits_pending, a.available) == (100, 100, 0)


def test_idempotent_retry_and_different_content() -> None:
    p = planner()
    first = p.run([tr("x")])[0]
    again = p.run([tr("x")])[0]
    assert first.created and not again.created and again.transfer == first.transfer
    assert p.accounts["a"].credits_posted == 100
    assert code_of(p, tr("x", amount=101)) == ["exists_with_different_amount"]
    assert code_of(p, tr("x", d="c")) == ["exists_with_different_debit_account_id"]
    assert code_of(p, tr("x", code="fee")) == ["exists_with_different_code"]
    assert code_of(p, tr("x", metadata={"k": 1})) == ["exists_with_different_metadata"]


def test_two_phase_post_partial_releases_the_rest() -> None:
    p = planner()
    p.run([tr("fund", amount=100)])
    p.run([tr("h", d="a", c="b", amount=80, flags=TransferFlags(pending=True))])
    post = TransferRequest("p", amount=30, flags=TransferFlags(post_pending=True), pending_id="h")
    assert code_of(p, post) == [None]
    a = p.accounts["a"]
    assert (a.debits_posted, a.debits_pending, a.available) == (30, 0, 70)
    assert p.transfers["h"].state is TransferState.POSTED
    again = TransferRequest("p2", flags=TransferFlags(post_pending=True), pending_id="h")
    void = TransferRequest("v", flags=TransferFlags(void_pending=True), pending_id="h")
    assert code_of(p, again, void) == [
        "pending_transfer_already_posted",
        "pending_transfer_already_posted",
    ]


def test_void_then_post_is_refused_and_amount_limits() -> None:
    p = planner()
    p.run([tr("fund", amount=100)])
    p.run([tr("h", d="a", c="b", amount=50, flags=TransferFlags(pending=True))])
    too_much = TransferRequest(
        "p", amount=51, flags=TransferFlags(post_pending=True), pending_id="h"
    )
    void = TransferRequest("v", flags=TransferFlags(void_pending=True), pending_id="h")
    post = TransferRequest("p", flags=TransferFlags(post_pending=True), pending_id="h")
    missing = TransferRequest("m", flags=TransferFlags(post_pending=True), pending_id="zz")
    plain = TransferRequest("n", flags=TransferFlags(post_pending=True), pending_id="fund")
    assert code_of(p, too_much, void, post, missing, plain) == [
        "exceeds_pending_transfer_amount",
        None,
        "pending_transfer_already_voided",
        "pending_transfer_not_found",
        "pending_transfer_not_pending",
    ]
    assert p.accounts["a"].debits_pending == 0 and p.accounts["a"].debits_posted == 0


def test_expired_hold_cannot_be_posted_and_expiry_releases() -> None:
    p = planner()
    p.run([tr("fund", amount=100)])
    hold = tr("h", d="a", c="b", amount=70, flags=TransferFlags(pending=True), timeout_seconds=10)
    p.run([hold])
    later = Planner("t", p.accounts, p.transfers, START + timedelta(seconds=10))
    post = TransferRequest("p", flags=TransferFlags(post_pending=True), pending_id="h")
    assert code_of(later, post) == ["pending_transfer_expired"]
    later.expire(later.transfers["h"])
    assert later.accounts["a"].debits_pending == 0
    assert later.transfers["h"].state is TransferState.EXPIRED
    assert code_of(later, post) == ["pending_transfer_expired"]
    assert later.records[-1].payload["action"] == "expire"


def test_linked_chain_is_all_or_nothing() -> None:
    p = planner()
    link = TransferFlags(linked=True)
    assert code_of(p, tr("x1", amount=10, flags=link), tr("x2", d="a", c="b", amount=50)) == [
        "linked_event_failed",
        "exceeds_credits",
    ]
    assert p.accounts["a"].credits_posted == 0 and not p.records and not p.new_transfers
    assert code_of(p, tr("y1", amount=50, flags=link), tr("y2", d="a", c="b", amount=50)) == [
        None,
        None,
    ]
    assert p.accounts["a"].balance == 0 and len(p.records) == 2
    assert code_of(p, tr("z", flags=link)) == ["linked_event_chain_open"]


def test_reversal_references_and_limits() -> None:
    p = planner()
    p.run([tr("pay", amount=100)])
    rev = tr("r1", d="a", c="b", amount=60, reversal_of="pay")
    wrong = tr("r2", d="b", c="a", amount=10, reversal_of="pay")
    over = tr("r3", d="a", c="b", amount=41, reversal_of="pay")
    missing = tr("r4", d="a", c="b", amount=1, reversal_of="nope")
    assert code_of(p, rev, wrong, over, missing) == [
        None,
        "reversal_must_swap_accounts",
        "exceeds_reversible_amount",
        "reversal_transfer_not_found",
    ]
    assert p.transfers["pay"].reversed_amount == 60
    assert p.accounts["a"].credits_posted == 100 and p.accounts["a"].debits_posted == 60


def test_totals_overflow_is_refused() -> None:
    p = planner(account("a"), account("b"))
    assert code_of(p, tr("1", amount=MAX_AMOUNT)) == [None]
    assert code_of(p, tr("2", amount=1)) == ["overflow"]


def test_ledger_payload_has_amounts_as_strings_and_no_metadata() -> None:
    p = planner()
    # Client metadata (personal data is refused outright: kernel/written.py) is sealed
    # only as its digest.
    p.run([tr("x", amount=MAX_AMOUNT - 5, metadata={"note": "client-side text"})])
    payload = p.records[0].payload
    assert payload["amount"] == str(MAX_AMOUNT - 5)
    assert "client-side text" not in str(payload)
    assert payload["metadata_digest"].startswith("sha256:")
    p.run([tr("y", amount=5)])
    plain = p.records[-1].payload
    assert set(plain) == {
        "action",
        "transfer_id",
        "debit_account_id",
        "credit_account_id",
        "amount",
        "ledger",
        "code",
        "timestamp",
    }
