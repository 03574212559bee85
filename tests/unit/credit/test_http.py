"""Credit over HTTP, in process, on a real standalone kernel: problem+json for bad input."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from paygod.bootstrap import Kernel, build_kernel
from tests.support.http import api_client
from tests.unit.credit.appendix_j import EXAMPLES

APPLICATION = {
    "product_id": "personal-term-loan",
    "applicant_ref": "urn:applicant:near-prime",
    "amount": 1_000_000,
    "currency": "USD",
    "payments": 36,
    "monthly_income": 700_000,
    "monthly_debt": 20_000,
}


@pytest.fixture
def kernel(paygod_home: Path) -> Iterator[Kernel]:
    kernel = build_kernel()
    yield kernel
    kernel.close()


def test_apply_read_and_accept(kernel: Kernel) -> None:
    client = api_client(kernel)
    made = client.post(
        "/v1/credit/applications", json=APPLICATION, headers={"Idempotency-Key": "a1"}
    )
    assert made.status_code == 201, made.text
    application = made.json()
    assert application.pop("receipt")["seq"] >= 1
    assert application["status"] == "offered" and application["offer"]["grade"] == "C"
    again = client.post(
        "/v1/credit/applications", json=APPLICATION, headers={"Idempotency-Key": "a1"}
    )
    # The replay answers as the write did, and seals nothing now.
    assert again.status_code == 200 and again.json() == {**application, "receipt": None}
    path = f"/v1/credit/applications/{application['application_id']}"
    shown = client.get(path).json()
    assert [h["transition"] for h in shown["history"]] == [
        "submitted",
        "checked",
        "assessed",
        "offered",
    ]
    accepted = client.post(path + "/accept")
    assert accepted.status_code == 200 and accepted.json()["status"] == "accepted"
    twice = client.post(path + "/accept")
    assert twice.status_code == 409
    assert twice.headers["content-type"].startswith("application/problem+json")
    assert client.get(path, params={"at": "yesterday"}).status_code == 422
    assert kernel.ledger.verify().ok


@pytest.mark.parametrize(
    ("change", "pointer"),
    [({"amount": 0}, "/amount"), ({"payments": 12000}, "/payments"), ({"x": 1}, "/x")],
)
def test_bad_applications_are_422_with_a_pointer(
    kernel: Kernel, change: dict[str, object], pointer: str
) -> None:
    size = kernel.ledger.size
    r = api_client(kernel).post("/v1/credit/applications", json={**APPLICATION, **change})
    assert r.status_code == 422
    assert r.json()["errors"][0]["pointer"] == pointer
    assert kernel.ledger.size == size


def test_calculators_over_http(kernel: Kernel) -> None:
    client = api_client(kernel)
    _, case, published = EXAMPLES[0]
    assert client.post("/v1/credit/apr", json=case).json() == {"apr": published}
    terms = {
        "principal": 500000, "currency": "USD", "annual_rate": "0.0969", "payments": 24,
        "frequency": "monthly", "day_count": "30/360", "start": "1978-01-10",
    }  # fmt: skip
    data = client.post("/v1/credit/schedule", json=terms).json()
    assert data["level_payment"] == 23001 and data["totals"]["principal"] == 500000
    bad = client.post("/v1/credit/schedule", json={**terms, "annual_rate": 0.05})
    assert bad.status_code == 422 and bad.json()["errors"][0]["pointer"] == "/annual_rate"
    assert client.post("/v1/credit/schedule", json={**terms, "payments": 0}).status_code == 422
    io = client.post("/v1/credit/schedule", json={**terms, "interest_only": 6}).json()
    assert [r["principal"] for r in io["rows"][:6]] == [0] * 6
    assert io["totals"]["principal"] == 500000
    bad = client.post("/v1/credit/schedule", json={**terms, "interest_only": 24})
    assert bad.status_code == 422 and bad.json()["errors"][0]["pointer"] == "/interest_only"
    products = client.get("/v1/credit/products").json()["products"]
    assert {p["product_id"] for p in products} >= {"personal-term-loan"}
