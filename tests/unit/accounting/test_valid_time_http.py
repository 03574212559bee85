"""Backdated postings and the two-axis balance over HTTP (a real kernel on SQLite)."""

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


def _post(c: TestClient, body: dict[str, Any]) -> dict[str, Any]:
    r = c.post("/v1/transfers", json=body)
    assert r.status_code == 201, r.text
    result: dict[str, Any] = r.json()
    return result


def test_backdated_posting_is_checked_at_every_instant_and_read_on_both_axes(
    kernel: Kernel,
) -> None:
    c = api_client(kernel)
    for body in (
        {
            "id": "w",
            "ledger": "EUR",
            "code": "liability",
            "flags": ["debits_must_not_exceed_credits"],
        },
        {"id": "bank", "ledger": "EUR", "code": "asset"},
    ):
        assert c.post("/v1/accounts", json=body).status_code == 201
    fund = _post(
        c, {"id": "f", "debit_account_id": "bank", "credit_account_id": "w", "amount": 100}
    )
    spend = _post(
        c, {"id": "s", "debit_account_id": "w", "credit_account_id": "bank", "amount": 80}
    )
    _post(c, {"id": "top", "debit_account_id": "bank", "credit_account_id": "w", "amount": 100})
    size_before = kernel.ledger.size

    late = {
        "id": "late",
        "debit_account_id": "w",
        "credit_account_id": "bank",
        "amount": 30,
        "valid_from": fund["timestamp"],
    }
    refused = c.post("/v1/transfers", json=late)
    assert refused.status_code == 422, refused.text
    problem = refused.json()
    assert problem["type"].endswith("/exceeds_credits")
    assert problem["errors"][0]["pointer"] == "/valid_from"
    assert problem["instant"] == spend["timestamp"] and problem["account_id"] == "w"
    assert kernel.ledger.size == size_before  # nothing recorded

    ok = _post(c, {**late, "id": "late2", "amount": 20})
    assert ok["valid_from"] == fund["timestamp"]
    # The ledger entry is valid from then in the ledger's own valid time too.
    entry = kernel.ledger.history("late2", "default")[-1]
    assert entry.as_dict()["valid_from"] == fund["timestamp"]
    on_fund = c.get("/v1/accounts/w/balance", params={"valid_at": fund["timestamp"]})
    assert on_fund.status_code == 200 and on_fund.json()["balance"] == 80
    as_known_then = c.get(
        "/v1/accounts/w/balance",
        params={"valid_at": fund["timestamp"], "recorded_at": spend["timestamp"]},
    )
    assert as_known_then.json()["balance"] == 100

    bad = c.post("/v1/transfers", json={**late, "id": "x", "valid_from": "2026-03-01"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["pointer"] == "/valid_from"
    early = c.post(
        "/v1/transfers", json={**late, "id": "y", "amount": 1, "valid_from": "2000-01-01T00:00:00Z"}
    )
    assert early.status_code == 422
    assert early.json()["type"].endswith("/valid_from_before_account_opened")
    both = c.get("/v1/accounts/w/balance", params={"at": fund["timestamp"], "valid_at": "x"})
    assert both.status_code == 422
    batch = c.post(
        "/v1/transfers",
        json={"transfers": [{**late, "id": "z", "valid_from": "yesterday"}]},
    )
    assert batch.status_code == 422
    assert batch.json()["errors"][0]["pointer"] == "/transfers/0/valid_from"
