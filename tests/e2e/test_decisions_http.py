from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from paygod.bootstrap import Kernel, build_kernel
from paygod.kernel.settings import load_settings
from paygod.ledger.verifier import check_inclusion
from tests.e2e.conftest import LiveServer
from tests.support.http import api_client
from tests.support.requests import decision_body


@pytest.fixture
def kernel(paygod_home: Path, tmp_path: Path) -> Iterator[Kernel]:
    built = build_kernel(load_settings(home=paygod_home, packs=tmp_path / "no-packs"))
    try:
        yield built
    finally:
        built.close()


@pytest.fixture
def client(kernel: Kernel) -> TestClient:
    return api_client(kernel)


body = decision_body  # the shared allowed-decision request


def test_decide_seals_and_returns_a_verifiable_receipt(client: TestClient, kernel: Kernel) -> None:
    response = client.post("/v1/decisions", json=body(), headers={"Idempotency-Key": "a-1"})
    assert response.status_code == 201, response.text
    decision = response.json()
    assert decision["decision"] == "allow"
    ledger = decision["ledger"]
    proof, head = ledger["inclusion_proof"], ledger["tree_head"]
    assert proof["tree_size"] == head["tree_size"]
    assert proof["root_hash"] == head["root_hash"]
    entry = kernel.ledger.get(ledger["seq"])
    assert entry is not None and entry.kind == "decision"
    assert check_inclusion(proof) is None  # the caller can check the receipt offline
    fetched = client.get(f"/v1/decisions/{decision['decision_id']}")
    assert fetched.status_code == 200
    assert fetched.json()["ledger"]["seq"] == ledger["seq"]
    assert fetched.json()["explanation"]["decision"] == "allow"


def test_idempotency_same_body_200_other_body_409(client: TestClient, kernel: Kernel) -> None:
    first = client.post("/v1/decisions", json=body(), headers={"Idempotency-Key": "k"})
    again = client.post("/v1/decisions", json=body(), headers={"Idempotency-Key": "k"})
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["decision_id"] == first.json()["decision_id"]
    size = kernel.ledger.size
    other = client.post("/v1/decisions", json=body(amount=99), headers={"Idempotency-Key": "k"})
    assert other.status_code == 409
    assert other.headers["content-type"].startswith("application/problem+json")
    assert kernel.ledger.size == size


@pytest.mark.parametrize(
    ("payload", "pointer"),
    [
        (body(amount="12"), "/input/payment/amount_minor"),  # type: ignore[arg-type]
        (body(extra_field=1), "/extra_field"),
        ({**body(), "context": {"email": "jane@example.com"}}, "/context/email"),
        (body(packs=["ghost"]), "/packs/0"),
    ],
)
def test_invalid_input_is_422_with_pointers_and_nothing_recorded(
    client: TestClient, kernel: Kernel, payload: dict[str, Any], pointer: str
) -> None:
    before = kernel.ledger.size
    response = client.post("/v1/decisions", json=payload, headers={"Idempotency-Key": "bad"})
    assert response.status_code == 422, response.text
    problem = response.json()
    assert response.headers["content-type"].startswith("application/problem+json")
    assert any(e["pointer"].endswith(pointer) for e in problem["errors"]), problem
    assert kernel.ledger.size == before
    with kernel.db.connect() as conn:
        assert conn.execute("SELECT COUNT(*) FROM outbox").fetchone()[0] == 0
        assert conn.execute("SELECT COUNT(*) FROM decision_index").fetchone()[0] == 0


def test_missing_idempotency_key_is_422(client: TestClient) -> None:
    assert client.post("/v1/decisions", json=body()).status_code == 422


def test_outbox_event_is_written_with_the_decision(client: TestClient, kernel: Kernel) -> None:
    response = client.post("/v1/decisions", json=body(), headers={"Idempotency-Key": "e"})
    seq = response.json()["ledger"]["seq"]
    with kernel.db.connect() as conn:
        rows = conn.execute("SELECT event_type, entry_seq FROM outbox").fetchall()
    assert rows == [("decision.finalized", seq)]


def test_packs_list_and_dry_run(client: TestClient, kernel: Kernel) -> None:
    listed = client.get("/v1/packs").json()
    assert listed["bundled"] is True
    names = {p["name"] for p in listed["packs"]}
    assert {"agent-payment-limits", "cross-border-data-transfer", "high-risk-review"} <= names
    size = kernel.ledger.size
    dry = client.post(
        "/v1/packs/agent-payment-limits/evaluate",
        json={"input": body(verified=False)["input"], "measurements": {"velocity_1h": 0}},
    )
    assert dry.status_code == 200, dry.text
    assert dry.json()["decision"] == "deny"
    assert dry.json()["sealed"] is False
    assert kernel.ledger.size == size
    assert client.post("/v1/packs/ghost/evaluate", json={"input": {}}).status_code == 404


def test_unknown_decision_is_404(client: TestClient) -> None:
    assert client.get("/v1/decisions/nope").status_code == 404


def test_live_server_decides(live_server: LiveServer) -> None:
    with live_server.client() as http:
        response = http.post("/v1/decisions", json=body(), headers={"Idempotency-Key": "live"})
        assert response.status_code == 201, response.text
        assert response.json()["decision"] == "allow"
