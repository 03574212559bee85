"""The accounting HTTP API in process: problem+json with pointers, nothing recorded on refusal."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from paygod.bootstrap import Kernel, build_kernel
from paygod.kernel.settings import load_settings
from tests.support.http import api_client


@pytest.fixture
def kernel(paygod_home: Path) -> Iterator[Kernel]:
    k = build_kernel(load_settings())
    try:
        yield k
    finally:
        k.close()


@pytest.fixture
def client(kernel: Kernel) -> TestClient:
    c = api_client(kernel)
    for body in (
        {
            "id": "wallet",
            "ledger": "EUR",
            "code": "liability",
            "flags": ["debits_must_not_exceed_credits"],
        },
        {"id": "bank", "ledger": "EUR", "code": "asset"},
        {"id": "usd", "ledger": "USD", "code": "asset"},
    ):
        assert c.post("/v1/accounts", json=body).status_code == 201
    return c


def fund(client: TestClient, amount: int = 1000) -> None:
    r = client.post(
        "/v1/transfers",
        json={
            "id": "fund",
            "debit_account_id": "bank",
            "credit_account_id": "wallet",
            "amount": amount,
        },
    )
    assert r.status_code in (200, 201), r.text


def test_transfer_roundtrip_and_idempotency(client: TestClient, kernel: Kernel) -> None:
    fund(client)
    body = {"id": "t1", "debit_account_id": "wallet", "credit_account_id": "bank", "amount": 250}
    first = client.post("/v1/transfers", json=body)
    assert first.status_code == 201 and first.json()["state"] == "posted"
    again = client.post("/v1/transfers", json=body)
    assert again.status_code == 200 and again.json()["created"] is False
    changed = client.post("/v1/transfers", json={**body, "amount": 251})
    assert changed.status_code == 409
    assert changed.json()["type"].endswith("/exists_with_different_amount")
    assert client.get("/v1/accounts/wallet").json()["balance"] == 750
    assert client.get("/v1/transfers/t1").json()["amount"] == 250
    assert kernel.ledger.history("t1", tenant_id="default")[0].kind == "transfer"


BAD: list[tuple[Any, int, str, str]] = [
    (0, 422, "amount_must_not_be_zero", "/amount"),
    (-5, 422, "amount_must_not_be_negative", "/amount"),
    (12.5, 422, "invalid-input", "/amount"),
    (100.0, 422, "invalid-input", "/amount"),
    ("100", 422, "invalid-input", "/amount"),
    (True, 422, "invalid-input", "/amount"),
    (2**63, 422, "overflow", "/amount"),
    (10**30, 422, "overflow", "/amount"),
]


@pytest.mark.parametrize(("amount", "status", "code", "pointer"), BAD)
def test_bad_amounts_are_refused_with_a_pointer(
    client: TestClient, kernel: Kernel, amount: Any, status: int, code: str, pointer: str
) -> None:
    before = kernel.ledger.size
    r = client.post(
        "/v1/transfers",
        json={
            "id": "x",
            "debit_account_id": "bank",
            "credit_account_id": "wallet",
            "amount": amount,
        },
    )
    assert r.status_code == status
    assert r.headers["content-type"].startswith("application/problem+json")
    problem = r.json()
    assert problem["type"].endswith("/" + code)
    assert problem["errors"][0]["pointer"] == pointer
    assert kernel.ledger.size == before
    assert client.get("/v1/transfers/x").status_code == 404


@pytest.mark.parametrize(
    ("body", "status", "code", "pointer"),
    [
        (
            {"debit_account_id": "bank", "credit_account_id": "nope"},
            404,
            "credit_account_not_found",
            "/credit_account_id",
        ),
        (
            {"debit_account_id": "nope", "credit_account_id": "bank"},
            404,
            "debit_account_not_found",
            "/debit_account_id",
        ),
        (
            {"debit_account_id": "usd", "credit_account_id": "wallet"},
            422,
            "ledger_must_match",
            "/credit_account_id",
        ),
        (
            {"debit_account_id": "bank", "credit_account_id": "wallet", "ledger": "USD"},
            422,
            "ledger_must_match",
            "/ledger",
        ),
        (
            {"debit_account_id": "bank", "credit_account_id": "bank"},
            422,
            "accounts_must_be_different",
            "/credit_account_id",
        ),
        (
            {"debit_account_id": "wallet", "credit_account_id": "bank"},
            422,
            "exceeds_credits",
            "/amount",
        ),
        (
            {"debit_account_id": "bank", "credit_account_id": "wallet", "extra": 1},
            422,
            "invalid-input",
            "/extra",
        ),
        (
            {"debit_account_id": "bank", "credit_account_id": "wallet", "metadata": {"n": 10**20}},
            422,
            "metadata_invalid",
            "/metadata",
        ),
    ],
)
def test_domain_refusals(
    client: TestClient, kernel: Kernel, body: dict[str, Any], status: int, code: str, pointer: str
) -> None:
    before = kernel.ledger.size
    r = client.post("/v1/transfers", json={"id": "y", "amount": 10, **body})
    assert r.status_code == status, r.text
    assert r.json()["type"].endswith("/" + code)
    assert r.json()["errors"][0]["pointer"] == pointer
    assert kernel.ledger.size == before


def test_linked_batch_all_or_nothing(client: TestClient, kernel: Kernel) -> None:
    fund(client, 100)
    batch = {
        "transfers": [
            {"id": "pay", "debit_account_id": "wallet", "credit_account_id": "bank", "amount": 90},
            {"id": "fee", "debit_account_id": "wallet", "credit_account_id": "bank", "amount": 20},
        ]
    }
    before = kernel.ledger.size
    r = client.post("/v1/transfers", json=batch)
    assert r.status_code == 422 and r.json()["errors"][0]["pointer"] == "/transfers/1/amount"
    assert kernel.ledger.size == before
    assert client.get("/v1/transfers/pay").status_code == 404
    batch["transfers"][1]["amount"] = 10
    ok = client.post("/v1/transfers", json=batch)
    assert ok.status_code == 201 and [t["id"] for t in ok.json()["transfers"]] == ["pay", "fee"]
    bad_item = client.post("/v1/transfers", json={"transfers": [{"id": "z", "amount": 1.5}]})
    assert bad_item.json()["errors"][0]["pointer"] == "/transfers/0/amount"


def test_holds_reports_and_export(client: TestClient) -> None:
    fund(client, 100)
    hold = {
        "id": "h",
        "debit_account_id": "wallet",
        "credit_account_id": "bank",
        "amount": 80,
        "flags": ["pending"],
        "timeout_seconds": 3600,
    }
    assert client.post("/v1/transfers", json=hold).status_code == 201
    assert client.get("/v1/accounts/wallet").json()["available"] == 20
    posted = client.post("/v1/transfers/h/post", json={"amount": 30})
    assert posted.status_code == 201 and posted.json()["amount"] == 30
    void = client.post("/v1/transfers/h/void")
    assert void.status_code == 422
    assert void.json()["type"].endswith("/pending_transfer_already_posted")
    assert client.get("/v1/accounts/wallet/balance").json()["balance"] == 70
    at = client.get("/v1/accounts/wallet/balance", params={"at": "2000-01-01T00:00:00Z"})
    assert at.json()["balance"] == 0
    st = client.get(
        "/v1/accounts/wallet/statement",
        params={"from": "2000-01-01T00:00:00Z", "to": "2100-01-01T00:00:00Z"},
    ).json()
    assert (st["opening_balance"], st["closing_balance"], len(st["lines"])) == (0, 70, 2)
    st_csv = client.get(
        "/v1/accounts/wallet/statement",
        params={"from": "2000-01-01T00:00:00Z", "to": "2100-01-01T00:00:00Z", "format": "csv"},
    ).text.splitlines()
    assert st_csv[1].split(",")[2] == "opening_balance" and st_csv[-1].endswith(",70,")
    tb = client.get("/v1/reports/trial-balance").json()
    assert tb["balanced"] is True
    assert client.get("/v1/reports/audit").json()["ok"] is True
    csv_text = client.get("/v1/transfers", params={"format": "csv"}).text
    assert csv_text.startswith("id,timestamp,state")
    assert client.get("/v1/accounts").json()["accounts"][0]["id"] == "bank"


def test_credits_over_http(client: TestClient) -> None:
    r = client.post("/v1/credits/purchase", json={"amount": 10}, headers={"Idempotency-Key": "k1"})
    assert r.status_code == 201 and r.json()["balance"]["balance"] == 10
    client.post("/v1/credits/purchase", json={"amount": 10}, headers={"Idempotency-Key": "k1"})
    assert client.get("/v1/credits/balance").json()["balance"] == 10
    short = client.post("/v1/credits/consume", json={"amount": 11, "idempotency_key": "c1"})
    assert short.status_code == 402
    problem = short.json()
    assert problem["type"].endswith("/insufficient-credits") and problem["shortfall"] == 1
    res = client.post("/v1/credits/reservations", json={"amount": 4, "ttl_seconds": 60})
    rid = res.json()["reservation"]["id"]
    assert (
        client.post(f"/v1/credits/reservations/{rid}/commit", json={"amount": 3}).status_code == 200
    )
    assert client.get("/v1/credits/balance").json()["available"] == 7


def test_reconciliation_over_http(client: TestClient) -> None:
    fund(client, 1000)
    r = client.post(
        "/v1/reconciliations",
        json={"account_id": "bank", "statement_csv": "date,amount,reference\n2026-01-01,1,x\n"},
    )
    assert r.status_code == 201
    report = r.json()
    assert client.get(f"/v1/reconciliations/{report['id']}").json()["id"] == report["id"]


@pytest.mark.parametrize("bad_id", ["nul\u0000byte", "pay\u202eout", "a/../b", "..", " padded"])
def test_ids_that_cannot_be_read_back_or_addressed_are_refused(
    client: TestClient, kernel: Kernel, bad_id: str
) -> None:
    before = kernel.ledger.size
    for path, body in (
        ("/v1/accounts", {"id": bad_id, "ledger": "USD", "code": "asset"}),
        (
            "/v1/transfers",
            {"id": bad_id, "debit_account_id": "bank", "credit_account_id": "wallet", "amount": 1},
        ),
    ):
        r = client.post(path, json=body)
        assert r.status_code == 422, (path, r.text)
        problem = r.json()
        assert problem["errors"][0]["pointer"].endswith("/id"), problem
    assert kernel.ledger.size == before


@pytest.mark.parametrize(
    ("route", "extra"),
    [("/v1/credits/purchase", {}), ("/v1/credits/consume", {}), ("/v1/credits/reservations", {})],
)
@pytest.mark.parametrize("key", ["a\u202eb", "a\tb", "a/b", " padded "])
def test_a_credits_idempotency_key_that_cannot_name_a_transfer_is_422_at_its_pointer(
    client: TestClient, kernel: Kernel, route: str, extra: dict[str, Any], key: str
) -> None:
    before = kernel.ledger.size
    in_body = client.post(route, json={"amount": 1, "idempotency_key": key, **extra})
    assert in_body.status_code == 422, in_body.text
    assert in_body.headers["content-type"].startswith("application/problem+json")
    assert in_body.json()["type"].endswith("/idempotency_key_invalid")
    assert [e["pointer"] for e in in_body.json()["errors"]] == ["/idempotency_key"]
    if key.isascii():  # a header value is bytes; httpx sends only ASCII text
        in_header = client.post(route, json={"amount": 1}, headers={"Idempotency-Key": key})
        assert in_header.status_code == 422, in_header.text
        assert [e["pointer"] for e in in_header.json()["errors"]] == ["#header/idempotency-key"]
    assert kernel.ledger.size == before


def test_a_pending_reversal_is_refused_so_the_original_stays_reversible(
    client: TestClient, kernel: Kernel
) -> None:
    # Before: the pending reversal took the whole 400 of the original's reversible amount
    # and a void gave none of it back, so the original could never be reversed again.
    fund(client)
    before = kernel.ledger.size
    r = client.post(
        "/v1/transfers",
        json={
            "id": "undo",
            "debit_account_id": "wallet",
            "credit_account_id": "bank",
            "amount": 400,
            "reversal_of": "fund",
            "flags": ["pending"],
        },
    )
    assert r.status_code == 422, r.text
    assert r.json()["type"].endswith("/reversal_must_not_be_pending")
    assert r.json()["errors"][0]["pointer"] == "/flags"
    assert kernel.ledger.size == before
    assert client.get("/v1/transfers/fund").json()["reversed_amount"] == 0
    whole = client.post("/v1/transfers/fund/reverse")
    assert whole.status_code == 201 and whole.json()["amount"] == 1000


def test_reversing_what_is_fully_reversed_says_nothing_is_left(
    client: TestClient, kernel: Kernel
) -> None:
    fund(client)
    assert client.post("/v1/transfers/fund/reverse").status_code == 201
    assert client.post("/v1/transfers/fund/reverse").status_code == 200  # the same reversal
    before = kernel.ledger.size
    again = client.post("/v1/transfers/fund/reverse", json={"id": "second"})
    assert again.status_code == 422, again.text
    assert again.json()["type"].endswith("/exceeds_reversible_amount")
    assert again.json()["errors"][0]["pointer"] == "/amount"
    assert kernel.ledger.size == before
