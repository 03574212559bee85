"""A revolving credit line end to end through the real HTTP app: applied for and offered
with its limit, accepted, opened, drawn, left to accrue interest (the manual clock), repaid
interest first, shown now and in the past, closed at zero — with another borrower and
another tenant seeing none of it, the books balanced and the ledger verified."""

from __future__ import annotations

from datetime import timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from paygod.api.schemas import credit as bodies
from paygod.kernel.clock import isoformat
from tests.e2e.test_credit_loans_http import T0, TENANT, Desk, _balanced, _check_receipt, desk
from tests.support.http import principal_headers

__all__ = ["desk"]  # the fixture, shared with the loans tests

LINES = "/v1/credit/lines"


def _line_application(ref: str, amount: int = 500_000) -> dict[str, Any]:
    return {
        "product_id": "revolving-credit-line",
        "applicant_ref": ref,
        "amount": amount,
        "currency": "USD",
        "monthly_income": 900_000,
    }


def test_a_credit_line_from_application_to_close(desk: Desk) -> None:
    accounting = desk.kernel.accounting
    made = desk.ok(
        desk.call(
            desk.alice,
            "POST",
            "/v1/credit/applications",
            _line_application("urn:applicant:prime"),
        ),
        201,
    )
    assert made["status"] == "offered", made
    offer = made["offer"]
    assert offer["credit_limit"] == 500_000 and "schedule" not in offer
    rate = Decimal(offer["annual_rate"])
    apr = (rate * 100).quantize(Decimal("0.01"), ROUND_HALF_EVEN)
    assert offer["disclosure"]["annual_percentage_rate"] == str(apr)
    line_id = str(made["application_id"])
    path = f"{LINES}/{line_id}"

    # Not open before acceptance; a line is opened, not disbursed.
    early = desk.call(desk.admin, "POST", f"{path}/open")
    assert early.status_code == 409 and early.json()["type"].endswith("/application-offered")
    desk.ok(desk.call(desk.alice, "POST", f"/v1/credit/applications/{line_id}/accept"))
    wrong = desk.call(desk.admin, "POST", f"/v1/credit/loans/{line_id}/disburse")
    assert wrong.status_code == 409 and wrong.json()["type"].endswith("/not-a-term-loan")
    refused = desk.call(desk.alice, "POST", f"{path}/open")  # an operator's step
    assert refused.status_code == 403, refused.text

    opened = desk.ok(desk.call(desk.admin, "POST", f"{path}/open"), 201)
    _check_receipt(desk, opened["ledger"])
    assert opened["status"] == "open" and opened["available_credit"] == 500_000
    again = desk.call(desk.admin, "POST", f"{path}/open")
    assert again.status_code == 409

    # A draw beyond the limit books nothing; one within moves money to the wallet.
    size = desk.kernel.ledger.size
    over = desk.call(
        desk.alice, "POST", f"{path}/draws", {"amount": 500_001, "currency": "USD"}, "d0"
    )
    assert over.status_code == 409 and over.json()["type"].endswith("/credit-limit-exceeded")
    assert desk.kernel.ledger.size == size
    bad = desk.call(desk.alice, "POST", f"{path}/draws", {"amount": 0, "currency": "USD"}, "d0")
    assert bad.status_code == 422 and bad.json()["errors"][0]["pointer"] == "/amount"
    desk.at(T0 + timedelta(days=1))
    drawn = desk.ok(
        desk.call(
            desk.alice, "POST", f"{path}/draws", {"amount": 365_000, "currency": "USD"}, "d1"
        ),
        201,
    )
    drawn_at = T0 + timedelta(days=1)
    assert drawn["line"]["principal_balance"] == 365_000
    # The answers are what the OpenAPI document names, member for member.
    bodies.SealedCreditLine.model_validate(opened)
    bodies.SealedCreditMove.model_validate(drawn)
    assert set(opened) == set(bodies.SealedCreditLine.model_fields)
    assert set(drawn) == set(bodies.SealedCreditMove.model_fields)
    assert set(drawn["line"]) == set(bodies.CreditLine.model_fields)
    assert drawn["line"]["available_credit"] == 135_000
    replay = desk.call(
        desk.alice, "POST", f"{path}/draws", {"amount": 365_000, "currency": "USD"}, "d1"
    )
    assert replay.status_code == 200 and replay.json()["line"]["principal_balance"] == 365_000
    assert replay.json()["move"] == drawn["move"]
    other = desk.call(desk.alice, "POST", f"{path}/draws", {"amount": 1, "currency": "USD"}, "d1")
    assert other.status_code == 409
    line = desk.ok(desk.call(desk.alice, "GET", path))
    assert accounting.get_account(TENANT, line["wallet_account"]).balance == 365_000
    assert accounting.get_account(TENANT, line["receivable_account"]).balance == 365_000

    # Thirty days pass: 365,000 × rate × 30 / 365, rounded half-even.
    desk.at(drawn_at + timedelta(days=30))
    interest = int((Decimal(365_000) * rate * 30 / 365).quantize(Decimal(1), ROUND_HALF_EVEN))
    shown = desk.ok(desk.call(desk.alice, "GET", path))
    assert shown["accrued_interest"] == interest > 0
    bodies.CreditLineWithHistory.model_validate(shown)
    assert set(shown) == set(bodies.CreditLineWithHistory.model_fields)
    share = int((Decimal(365_000) * Decimal("0.01")).quantize(Decimal(1), ROUND_HALF_EVEN))
    assert shown["minimum_payment"] == max(interest + share, 2_500)
    past = desk.ok(
        desk.http.get(path, params={"at": isoformat(T0 + timedelta(hours=1))}, headers=desk.alice)
    )
    assert past["principal_balance"] == 0 and past["accrued_interest"] == 0

    # A repayment pays the interest first; more than is owed books nothing.
    size = desk.kernel.ledger.size
    too_much = desk.call(desk.alice, "POST", f"{path}/repayments",
                         {"amount": 365_000 + interest + 1, "currency": "USD"}, "r0")  # fmt: skip
    assert too_much.status_code == 409
    assert too_much.json()["type"].endswith("/credit-line-overpayment")
    assert desk.kernel.ledger.size == size
    paid = desk.ok(
        desk.call(
            desk.alice, "POST", f"{path}/repayments", {"amount": 100_000, "currency": "USD"}, "r1"
        ),
        201,
    )
    assert paid["move"]["interest"] == interest
    assert paid["move"]["principal"] == 100_000 - interest
    balance = 365_000 - (100_000 - interest)
    assert paid["line"]["principal_balance"] == balance
    # The books follow the line: the receivable is its principal balance, the interest income.
    assert accounting.get_account(TENANT, line["receivable_account"]).balance == balance
    assert accounting.get_account(TENANT, "credit-interest-income-USD").balance == interest
    assert accounting.get_account(TENANT, line["wallet_account"]).balance == 265_000
    again_paid = desk.call(desk.alice, "POST", f"{path}/repayments",
                           {"amount": 100_000, "currency": "USD"}, "r1")  # fmt: skip
    assert again_paid.status_code == 200
    assert again_paid.json()["line"]["principal_balance"] == balance
    closing = desk.call(desk.alice, "POST", f"{path}/close")
    assert closing.status_code == 409
    assert closing.json()["type"].endswith("/credit-line-balance-outstanding")

    # The rest from an account of the borrower's own, the same day (no new interest).
    bank = {"id": "alice-bank", "ledger": "USD", "code": "liability", "owner": desk.alice_id}
    desk.ok(desk.call(desk.admin, "POST", "/v1/accounts", bank))
    desk.ok(desk.call(desk.admin, "POST", "/v1/accounts",
                      {"id": "cash", "ledger": "USD", "code": "equity"}))  # fmt: skip
    desk.ok(desk.call(desk.admin, "POST", "/v1/transfers", {
        "id": "topup", "debit_account_id": "cash", "credit_account_id": "alice-bank",
        "amount": balance, "ledger": "USD"}))  # fmt: skip
    desk.ok(desk.call(desk.alice, "POST", f"{path}/repayments", {
        "amount": balance, "currency": "USD", "from_account": "alice-bank"}, "r2"))  # fmt: skip
    cleared = desk.ok(desk.call(desk.alice, "GET", path))
    assert cleared["principal_balance"] == cleared["accrued_interest"] == 0
    assert cleared["minimum_payment"] == 0
    assert accounting.get_account(TENANT, cleared["receivable_account"]).balance == 0

    # Bob sees none of it; another tenant finds nothing.
    assert desk.call(desk.bob, "GET", path).status_code == 404
    assert desk.ok(desk.call(desk.bob, "GET", LINES))["lines"] == []
    bob_close = desk.call(desk.bob, "POST", f"{path}/close")
    assert bob_close.status_code == 404
    globex = principal_headers(desk.kernel, roles=["admin"], tenant_id="globex", name="gx")
    assert desk.call(globex, "GET", path).status_code == 404
    assert desk.ok(desk.call(globex, "GET", LINES))["lines"] == []
    assert [x["line_id"] for x in desk.ok(desk.call(desk.alice, "GET", LINES))["lines"]] == [
        line_id
    ]

    closed = desk.ok(desk.call(desk.alice, "POST", f"{path}/close"))
    assert closed["status"] == "closed"
    bodies.SealedCreditLine.model_validate(closed)
    bodies.CreditLines.model_validate(desk.ok(desk.call(desk.admin, "GET", LINES)))
    _check_receipt(desk, closed["ledger"])
    after = desk.call(desk.alice, "POST", f"{path}/draws", {"amount": 1, "currency": "USD"}, "d9")
    assert after.status_code == 409 and after.json()["type"].endswith("/credit-line-closed")
    shown = desk.ok(desk.call(desk.admin, "GET", path))
    assert [t["transition"] for t in shown["transitions"]] == [
        "opened", "draw", "repayment", "repayment", "closed"
    ]  # fmt: skip
    kinds = [
        e["event_type"]
        for e in (
            desk.events("CreditLineOpened")
            + desk.events("CreditDrawn")
            + desk.events("RepaymentReceived")
            + desk.events("CreditLineClosed")
        )
    ]
    assert kinds == ["CreditLineOpened", "CreditDrawn"] + ["RepaymentReceived"] * 2 + [
        "CreditLineClosed"
    ]
    assert all(e["aggregate_type"] == "credit_line" for e in desk.events("RepaymentReceived"))
    _balanced(desk)
