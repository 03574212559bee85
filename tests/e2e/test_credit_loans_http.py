"""The credit demo end to end through the real HTTP app: an approval and a decline with its
reasons, a loan disbursed and repaid early, one that goes 90+ days past due and is written
off, the portfolio now and in the past — with the books balanced and the ledger verified.

The kernel's clock is a manual one (the PAYGOD_CLOCK of a reproducible run, moved by the
test), shared by every service, so due dates, days past due and `?at=` follow it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from paygod import bootstrap
from paygod.bootstrap import Kernel
from paygod.identity.model import PrincipalKind, Role
from paygod.kernel.clock import ManualClock, isoformat
from paygod.kernel.settings import load_settings
from paygod.ledger.verifier import check_inclusion
from tests.support.http import principal_headers, unthrottled_client

TENANT = "acme"
T0 = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)


def _application(ref: str, amount: int = 1_000_000) -> dict[str, Any]:
    return {
        "product_id": "personal-term-loan",
        "applicant_ref": ref,
        "amount": amount,
        "currency": "USD",
        "payments": 12,
        "monthly_income": 900_000,
    }


class Desk:
    """The lender's admin and two borrowers (agents, scope `own`) of tenant acme."""

    def __init__(self, kernel: Kernel, clock: ManualClock) -> None:
        self.kernel, self.clock = kernel, clock
        self.http: TestClient = unthrottled_client(kernel)
        self.admin = principal_headers(kernel, roles=["admin"], tenant_id=TENANT, name="lender")
        self.alice, self.alice_id = self._agent("alice")
        self.bob, _ = self._agent("bob")
        self.auditor = principal_headers(kernel, roles=["auditor"], tenant_id=TENANT, name="aud")

    def _agent(self, name: str) -> tuple[dict[str, str], str]:
        agent = self.kernel.identity.create_principal(
            TENANT, name, PrincipalKind.AGENT, {Role.AGENT}
        )
        token = self.kernel.identity.issue_key(agent.principal_id).token
        return {"Authorization": f"Bearer {token}"}, agent.principal_id

    def call(
        self, who: dict[str, str], method: str, path: str, body: Any = None, key: str | None = None
    ) -> Any:
        headers = {**who, **({"Idempotency-Key": key} if key else {})}
        return self.http.request(method, path, headers=headers, json=body)

    def ok(self, response: Any, status: int | None = None) -> dict[str, Any]:
        assert response.status_code < 300, response.text
        if status is not None:
            assert response.status_code == status, response.text
        data: dict[str, Any] = response.json()
        return data

    def borrow(self, who: dict[str, str], ref: str, amount: int = 1_000_000) -> str:
        made = self.ok(self.call(who, "POST", "/v1/credit/applications", _application(ref, amount)))
        assert made["status"] == "offered", made
        loan_id = str(made["application_id"])
        self.ok(self.call(who, "POST", f"/v1/credit/applications/{loan_id}/accept"))
        return loan_id

    def at(self, when: datetime) -> None:
        self.clock.set(when)

    def events(self, event_type: str) -> list[dict[str, Any]]:
        conn = self.kernel.db.connect()  # type: ignore[attr-defined]
        try:
            rows = conn.execute(
                "SELECT envelope FROM outbox WHERE event_type = ?", (event_type,)
            ).fetchall()
        finally:
            conn.close()
        return [json.loads(r[0]) for r in rows]


@pytest.fixture
def desk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Desk]:
    clock = ManualClock(T0)
    monkeypatch.setattr(bootstrap, "clock_from_settings", lambda settings: clock)
    kernel = bootstrap.build_kernel(
        load_settings(home=tmp_path / "home", database_url=None, redis_url=None)
    )
    try:
        yield Desk(kernel, clock)
    finally:
        kernel.close()


def _balanced(desk: Desk) -> None:
    kernel = desk.kernel
    assert kernel.ledger.verify().ok
    assert kernel.accounting.rebuild_check(TENANT).ok
    assert kernel.accounting.trial_balance(TENANT)["balanced"]


def _check_receipt(desk: Desk, ledger: dict[str, Any]) -> None:
    proof = ledger["inclusion_proof"]
    assert ledger["tree_head"]["tree_size"] == proof["tree_size"] > ledger["seq"]
    assert check_inclusion(proof) is None  # None: the proof holds
    assert proof["root_hash"] == ledger["tree_head"]["root_hash"]


def test_the_credit_demo(desk: Desk) -> None:
    # An approval and a decline that names its reasons.
    declined = desk.ok(
        desk.call(
            desk.bob, "POST", "/v1/credit/applications", _application("urn:applicant:subprime")
        )
    )
    assert declined["status"] == "declined"
    codes = [r["code"] for r in declined["underwriting"]["reasons"]]
    assert codes[0] == "R07" and 1 < len(codes) <= 4
    early = desk.borrow(desk.alice, "urn:applicant:prime")
    late = desk.borrow(desk.bob, "urn:applicant:near-prime", 800_000)

    # Disbursement: booked (receivable, wallet, fee income), sealed, once.
    assert desk.call(desk.alice, "POST", f"/v1/credit/loans/{early}/disburse").status_code == 403
    made = desk.ok(desk.call(desk.admin, "POST", f"/v1/credit/loans/{early}/disburse"), 201)
    assert made["status"] == "active" and made["principal_outstanding"] == 1_000_000
    _check_receipt(desk, made["ledger"])
    size = desk.kernel.ledger.size
    again = desk.call(desk.admin, "POST", f"/v1/credit/loans/{early}/disburse")
    assert again.status_code == 409 and desk.kernel.ledger.size == size
    desk.ok(desk.call(desk.admin, "POST", f"/v1/credit/loans/{late}/disburse"), 201)
    accounting = desk.kernel.accounting
    wallet = accounting.get_account(TENANT, made["wallet_account"])
    assert wallet.balance == 1_000_000 - made["origination_fee"] and wallet.owner == desk.alice_id
    assert accounting.get_account(TENANT, made["receivable_account"]).balance == 1_000_000
    assert [e["payload"]["loan_id"] for e in desk.events("LoanDisbursed")] == [early, late]
    # Another borrower's loan does not exist for bob.
    assert desk.call(desk.bob, "GET", f"/v1/credit/loans/{early}").status_code == 404
    assert [
        x["loan_id"] for x in desk.ok(desk.call(desk.bob, "GET", "/v1/credit/loans"))["loans"]
    ] == [late]

    # The first instalment on its due date, then an early repayment: the schedule is
    # recomputed over the same dates, exactly.
    first = made["instalments"][0]
    desk.at(datetime.fromisoformat(first["due_date"]).replace(hour=9, tzinfo=UTC))
    path = f"/v1/credit/loans/{early}/repayments"
    due = first["interest"] + first["principal"]
    paid = desk.ok(
        desk.call(desk.alice, "POST", path, {"amount": due, "currency": "USD"}, "p1"), 201
    )
    assert paid["repayment"]["allocation"] == {
        "fees": 0, "interest": first["interest"], "principal": first["principal"],
        "early_repayment": 0, "schedule_recomputed": False,
    }  # fmt: skip
    _check_receipt(desk, paid["ledger"])
    replay = desk.call(desk.alice, "POST", path, {"amount": due, "currency": "USD"}, "p1")
    assert replay.status_code == 200 and replay.json()["repayment"] == paid["repayment"]
    reused = desk.call(desk.alice, "POST", path, {"amount": due + 1, "currency": "USD"}, "p1")
    assert reused.status_code == 409
    desk.at(desk.clock.now() + timedelta(days=10))
    before = paid["loan"]
    size = desk.kernel.ledger.size
    for body, key, pointer in [
        ({"amount": 0, "currency": "USD"}, "b1", "/amount"),
        ({"amount": 10, "currency": "EUR"}, "b2", "/currency"),
        ({"amount": 10, "currency": "USD", "note": "x"}, "b3", "/note"),
        ({"amount": before["payoff"] * 2, "currency": "USD"}, "b4", "/amount"),
        ({"amount": 10, "currency": "USD", "from_account": before["receivable_account"]}, "b5",
         "/from_account"),
        ({"amount": 10, "currency": "USD", "from_account": "nobody"}, "b6", "/from_account"),
        ({"amount": 10.5, "currency": "USD"}, "b7", "/amount"),
        ({"amount": True, "currency": "USD"}, "b8", "/amount"),
        ({"amount": 10**30, "currency": "USD"}, "b9", "/amount"),
        ({"amount": 10, "currency": "USD"}, " padded ", "#header/idempotency-key"),
    ]:  # fmt: skip
        bad = desk.call(desk.alice, "POST", path, body, key)
        assert bad.status_code == 422 and bad.json()["errors"][0]["pointer"] == pointer, bad.text
    assert desk.call(desk.alice, "POST", path, {"amount": 10, "currency": "USD"}).status_code == 422
    assert desk.kernel.ledger.size == size  # nothing recorded for bad input
    prepaid = desk.ok(
        desk.call(desk.alice, "POST", path, {"amount": 400_000, "currency": "USD"}, "p2")
    )
    allocation = prepaid["repayment"]["allocation"]
    assert allocation["schedule_recomputed"] and allocation["early_repayment"] == 400_000
    assert (
        allocation["interest"] > 0 and allocation["interest"] + allocation["principal"] == 400_000
    )
    loan = prepaid["loan"]
    assert (
        loan["principal_outstanding"] == before["principal_outstanding"] - allocation["principal"]
    )
    assert sum(d["principal"] for d in loan["instalments"]) == 1_000_000
    assert len(loan["instalments"]) == 12
    assert loan["next_due"]["amount_due"] < due  # smaller payment
    # Pay off: the borrower tops up an account of their own and pays from it.
    bank = {"id": "alice-bank", "ledger": "USD", "code": "liability", "owner": desk.alice_id}
    own = desk.ok(desk.call(desk.admin, "POST", "/v1/accounts", bank))
    desk.ok(
        desk.call(
            desk.admin, "POST", "/v1/accounts", {"id": "cash", "ledger": "USD", "code": "equity"}
        )
    )
    desk.ok(desk.call(desk.admin, "POST", "/v1/transfers", {
        "id": "topup", "debit_account_id": "cash", "credit_account_id": own["id"],
        "amount": 200_000, "ledger": "USD"}))  # fmt: skip
    payoff = loan["payoff"]
    wallet_left = accounting.get_account(TENANT, loan["wallet_account"]).balance
    desk.ok(desk.call(desk.alice, "POST", path, {"amount": wallet_left, "currency": "USD"}, "p3"))
    rest = payoff - wallet_left
    closed = desk.ok(desk.call(desk.alice, "POST", path, {
        "amount": rest, "currency": "USD", "from_account": "alice-bank"}, "p4"))  # fmt: skip
    assert closed["loan"]["status"] == "repaid" and closed["loan"]["principal_outstanding"] == 0
    assert accounting.get_account(TENANT, loan["receivable_account"]).balance == 0
    size = desk.kernel.ledger.size
    refused = desk.call(desk.alice, "POST", path, {"amount": 1, "currency": "USD"}, "p5")
    assert refused.status_code == 409 and refused.json()["type"].endswith("/loan-closed")
    assert desk.kernel.ledger.size == size
    assert [e["event_type"] for e in desk.events("RepaymentReceived")] == ["RepaymentReceived"] * 4
    _balanced(desk)

    # The other loan is never paid: late fees, buckets, default, write-off.
    late_loan = desk.ok(desk.call(desk.bob, "GET", f"/v1/credit/loans/{late}"))
    first_due = datetime.fromisoformat(late_loan["instalments"][0]["due_date"]).replace(
        hour=12, tzinfo=UTC
    )
    # The kernel's housekeeping assesses every loan on its own, no request involved.
    desk.at(first_due + timedelta(days=2))
    assert "credit.assess_loans" in desk.kernel.housekeeping.run_due(now=0.0)
    recorded = desk.kernel.loans.get(late)
    assert (recorded.bucket, recorded.status.value) == ("1-30", "active")
    seen = []
    for days in (5, 20, 45, 75):
        desk.at(first_due + timedelta(days=days))
        assessed = desk.ok(desk.call(desk.admin, "POST", f"/v1/credit/loans/{late}/assess"))
        seen.append((assessed["days_past_due"], assessed["delinquency_bucket"], assessed["status"]))
    assert seen == [(5, "1-30", "active"), (20, "1-30", "active"), (45, "31-60", "active"),
                    (75, "61-90", "active")]  # fmt: skip
    assert assessed["fees_outstanding"] == 3 * 2_500  # three instalments past the grace
    at_45 = isoformat(first_due + timedelta(days=45, hours=1))
    early_write_off = desk.call(desk.admin, "POST", f"/v1/credit/loans/{late}/write-off")
    assert early_write_off.status_code == 409
    desk.at(first_due + timedelta(days=95))
    assert desk.call(desk.bob, "POST", f"/v1/credit/loans/{late}/write-off").status_code == 403
    hidden = desk.call(
        desk.admin, "POST", f"/v1/credit/loans/{late}/write-off", {"reason": "ok\u202e"}
    )
    assert hidden.status_code == 422 and hidden.json()["errors"][0]["pointer"] == "/reason"
    written = desk.ok(
        desk.call(desk.admin, "POST", f"/v1/credit/loans/{late}/write-off", {"reason": "90+ dpd"})
    )
    assert written["status"] == "written_off" and written["principal_outstanding"] == 0
    assert written["write_off"]["principal"] == 800_000
    buckets = [e["payload"]["bucket"] for e in desk.events("LoanDelinquent")]
    assert buckets == ["1-30", "31-60", "61-90", "90+"]
    losses = accounting.get_account(TENANT, "credit-loan-losses-USD").balance
    assert (
        losses == 800_000 + written["write_off"]["fees"] and written["write_off"]["fees"] >= 7_500
    )
    assert accounting.get_account(TENANT, written["receivable_account"]).balance == 0
    refused = desk.call(desk.bob, "POST", f"/v1/credit/loans/{late}/repayments",
                        {"amount": 100, "currency": "USD"}, "w1")  # fmt: skip
    assert refused.status_code == 409

    # The portfolio now and as it stood 45 days after the first missed payment.
    now = desk.ok(desk.call(desk.auditor, "GET", "/v1/credit/portfolio"))["currencies"]["USD"]
    assert (now["loans"], now["repaid"], now["written_off"], now["outstanding"]) == (2, 1, 1, 0)
    assert now["written_off_amount"] == 800_000 and now["expected_loss"] == 0
    then = desk.ok(
        desk.http.get("/v1/credit/portfolio", params={"at": at_45}, headers=desk.auditor)
    )["currencies"]["USD"]
    assert (
        then["buckets"]["31-60"]["loans"] == 1
        and then["buckets"]["31-60"]["outstanding"] == 800_000
    )
    assert (then["outstanding"], then["repaid"], then["written_off"]) == (800_000, 1, 0)
    assert then["buckets"]["31-60"]["rate"] == then["delinquency_rate"] == "1.0000"
    # Expected loss then: outstanding × PD of grade C × the product's LGD.
    assert then["expected_loss"] == round(800_000 * 0.07 * 0.65)
    bad_at = desk.http.get("/v1/credit/portfolio", params={"at": "soon"}, headers=desk.auditor)
    assert bad_at.status_code == 422
    mine = desk.ok(desk.call(desk.bob, "GET", "/v1/credit/portfolio"))["currencies"]["USD"]
    assert mine["loans"] == 1  # an agent's portfolio is its own loans
    _balanced(desk)


def test_a_disbursement_pays_out_through_the_rail_router(desk: Desk) -> None:
    loan_id = desk.borrow(desk.alice, "urn:applicant:prime")
    path = f"/v1/credit/loans/{loan_id}/disburse"
    size = desk.kernel.ledger.size
    for body, pointer in [
        ({"payout": {"payee": "alice"}}, "/payout/payee"),
        ({"payout": {"payee": {"name": "A"}, "rail": "x"}}, "/payout/rail"),
        ({"payout": "yes"}, "/payout"),
        ({"amount": 5}, "/amount"),
    ]:
        bad = desk.call(desk.admin, "POST", path, body)
        assert bad.status_code == 422 and bad.json()["errors"][0]["pointer"] == pointer, bad.text
    assert desk.kernel.ledger.size == size and desk.kernel.loans.find(loan_id) is None
    payee = {"name": "Alice", "account_number": "000123456789", "routing_number": "021000021"}
    payout = {"payee": payee, "metadata": {"counterparty_verified": True}}
    made = desk.ok(desk.call(desk.admin, "POST", path, {"payout": payout}), 201)
    payment_id = made["payout"]["payment_id"]
    assert made["payout"]["amount"] == 1_000_000 - made["origination_fee"]
    payment = desk.ok(desk.call(desk.admin, "GET", f"/v1/payments/{payment_id}"))
    assert payment["payer_account"] == made["wallet_account"]
    assert payment["status"] in {"held", "dispatching", "dispatched", "settled"}, payment[
        "decision"
    ]
    wallet = desk.kernel.accounting.get_account(TENANT, made["wallet_account"])
    assert wallet.available == 0  # the whole amount financed is on its way to the payee
    history = desk.ok(desk.call(desk.admin, "GET", f"/v1/credit/loans/{loan_id}"))["history"]
    assert [h["transition"] for h in history] == ["disbursed", "payout"]
    again = desk.call(desk.admin, "POST", path, {"payout": payout})
    assert again.status_code == 409  # paid out once
    # A loan booked without a payout gets one by the same call, later (once).
    other = desk.borrow(desk.alice, "urn:applicant:prime", 500_000)
    desk.ok(desk.call(desk.admin, "POST", f"/v1/credit/loans/{other}/disburse"), 201)
    later = desk.call(desk.admin, "POST", f"/v1/credit/loans/{other}/disburse", {"payout": payout})
    assert later.status_code == 201 and later.json()["payout"]["payment_id"]
    _balanced(desk)
