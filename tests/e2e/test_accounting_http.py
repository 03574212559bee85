"""The accounting API on a real server: money moves, refusals record nothing."""

from __future__ import annotations

from tests.e2e.conftest import LiveServer


def test_accounts_and_transfers_over_the_wire(live_server: LiveServer) -> None:
    with live_server.client() as http:
        for body in (
            {
                "id": "w",
                "ledger": "EUR",
                "code": "liability",
                "flags": ["debits_must_not_exceed_credits"],
            },
            {"id": "b", "ledger": "EUR", "code": "asset"},
        ):
            assert http.post("/v1/accounts", json=body).status_code == 201
        fund = {"id": "f", "debit_account_id": "b", "credit_account_id": "w", "amount": 500}
        assert http.post("/v1/transfers", json=fund).status_code == 201
        assert http.post("/v1/transfers", json=fund).status_code == 200
        bad = http.post("/v1/transfers", json={**fund, "id": "g", "amount": 5.0})
        assert bad.status_code == 422 and bad.json()["errors"][0]["pointer"] == "/amount"
        over = http.post(
            "/v1/transfers",
            json={"id": "o", "debit_account_id": "w", "credit_account_id": "b", "amount": 501},
        )
        assert over.status_code == 422 and over.json()["type"].endswith("/exceeds_credits")
        assert http.get("/v1/accounts/w").json()["balance"] == 500
        assert http.get("/v1/reports/audit").json()["ok"] is True
        short = http.post("/v1/credits/consume", json={"amount": 1})
        assert short.status_code == 402
