"""Cash and period routes over HTTP: problem+json with pointers, nothing recorded on refusal."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

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


def test_cash_limit_and_bad_input_are_problems(kernel: Kernel) -> None:
    c = api_client(kernel)
    assert (
        c.post("/v1/accounts", json={"id": "a", "ledger": "EUR", "code": "liability"}).status_code
        == 201
    )
    assert c.post("/v1/cash/branches", json={"branch": "n", "ledger": "EUR"}).status_code == 201
    till = c.post("/v1/cash/branches/n/tills", json={"till": "t", "cash_limit": 100})
    assert till.status_code == 201 and till.json()["receipt"] is not None
    move = {"branch": "n", "till": "t", "account_id": "a"}
    assert c.post("/v1/cash/deposits", json={**move, "id": "d1", "amount": 90}).status_code == 201
    size = kernel.ledger.size
    over = c.post("/v1/cash/deposits", json={**move, "id": "d2", "amount": 11})
    assert over.status_code == 422, over.text
    problem = over.json()
    assert problem["type"].endswith("/cash-limit-exceeded")
    assert problem["errors"][0]["pointer"] == "/amount" and problem["cash_limit"] == 100
    assert kernel.ledger.size == size
    retry = c.post("/v1/cash/deposits", json={**move, "id": "d1", "amount": 90})
    assert retry.status_code == 200 and retry.json()["created"] is False
    bad = c.post("/v1/cash/deposits", json={**move, "id": "d3", "amount": "5"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["pointer"] == "/amount"
    count = c.post("/v1/cash/branches/n/tills/t/count", json={"declared": 95})
    assert count.status_code == 201 and count.json()["result"] == "over"
    assert c.get("/v1/cash/branches/nope").status_code == 404


def test_period_routes(kernel: Kernel) -> None:
    c = api_client(kernel)
    assert (
        c.post("/v1/accounts", json={"id": "a", "ledger": "EUR", "code": "asset"}).status_code
        == 201
    )
    future = c.post("/v1/periods", json={"period": "p", "until": "2999-01-01T00:00:00Z"})
    assert future.status_code == 422 and future.json()["errors"][0]["pointer"] == "/until"
    made = c.post("/v1/periods", json={"period": "p"})
    assert made.status_code == 201 and made.json()["accounts"] == 1
    assert c.post("/v1/periods", json={"period": "p"}).status_code == 200
    assert c.get("/v1/periods/p").json()["root_hash"] == made.json()["root_hash"]
    proof = c.get("/v1/accounts/a/statement-proof", params={"period": "p"})
    assert proof.status_code == 200 and proof.json()["statement"]["account_id"] == "a"
    assert c.get("/v1/accounts/a/statement-proof", params={"period": "q"}).status_code == 404
