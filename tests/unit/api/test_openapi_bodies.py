"""The OpenAPI document names every success body, and the names tell the truth.

A route documents its body with a response model (`api/schemas/`); these tests fail when an
operation answers 2xx JSON with no named schema, and when a real answer of the main resources
(decision, payment, account, transfer, ledger entry, case) does not validate against what
its operation declares, or carries a member the declared model does not name.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest
from fastapi.testclient import TestClient

from paygod.api.app import create_app
from paygod.bootstrap import Kernel, build_kernel
from paygod.kernel.settings import load_settings
from tests.support.accounts import open_funded_payer
from tests.support.http import api_client
from tests.support.requests import decision_body

METHODS = {"get", "put", "post", "patch", "delete"}
JSON_TYPES = {"application/json", "application/health+json"}

# Operations whose success answer has no JSON body to name, and why (the metrics text is
# out of the document; CSV and PDF answers sit beside a named JSON body).
NO_JSON_BODY: dict[tuple[str, str], str] = {
    ("POST", "/v1/notifications/inbox/{message_id}/read"): "204 No Content",
    ("GET", "/v1/documents/{document_id}/content"): "the document's own bytes (its media type)",
}

# Models whose extra members are open-ended on purpose (never checked as closed).
OPEN_MODELS = {
    "Sealed",  # the resource of each sealing route, plus its receipt
    "RiskModel",  # the registry entry carries the training metadata as given
    "Report",  # each kind of report has its own sections
}


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    document: dict[str, Any] = create_app().openapi()
    return document


def _operations(spec: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method in METHODS:
                yield method.upper(), path, operation


def _named(schema: dict[str, Any]) -> bool:
    """A `$ref` to a component, an array of them, or a choice among those; a bare
    `{"type": "object"}` (what `dict[str, Any]` documents) names nothing."""
    if "$ref" in schema:
        return True
    if schema.get("type") == "array":
        return _named(schema.get("items", {}))
    choices = schema.get("anyOf") or schema.get("oneOf")
    return bool(choices) and all(_named(choice) for choice in choices)


def _success_schemas(operation: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        media.get("schema", {})
        for status, response in operation["responses"].items()
        if status.startswith("2")
        for media_type, media in (response.get("content") or {}).items()
        if media_type in JSON_TYPES
    ]


def test_every_operation_names_its_success_body(spec: dict[str, Any]) -> None:
    unnamed = [
        (method, path)
        for method, path, operation in _operations(spec)
        if (method, path) not in NO_JSON_BODY
        and not any(_named(s) for s in _success_schemas(operation))
    ]
    assert unnamed == []
    assert sum(1 for _ in _operations(spec)) > 100


def test_named_success_bodies_declare_their_members(spec: dict[str, Any]) -> None:
    """A model with no properties would document nothing (an object, anything)."""
    components = spec["components"]["schemas"]
    refs = {
        ref.rsplit("/", 1)[1]
        for _, _, operation in _operations(spec)
        for schema in _success_schemas(operation)
        for ref in _refs(schema)
    }
    empty = sorted(name for name in refs if not components[name].get("properties"))
    assert empty == []


def _refs(schema: Any) -> Iterator[str]:
    if isinstance(schema, dict):
        for key, value in schema.items():
            if key == "$ref" and isinstance(value, str):
                yield value
            else:
                yield from _refs(value)
    elif isinstance(schema, list):
        for value in schema:
            yield from _refs(value)


def test_the_allow_list_names_real_operations(spec: dict[str, Any]) -> None:
    known = {(method, path) for method, path, _ in _operations(spec)}
    assert set(NO_JSON_BODY) <= known


# -- real answers against their declared schema ------------------------------------------


def _closed(components: dict[str, Any]) -> dict[str, Any]:
    """The components with every declared model closed to undeclared members: a real
    answer carrying a member its model does not name means the model has drifted."""
    closed = copy.deepcopy(components)
    for name, schema in closed["schemas"].items():
        if schema.get("properties") and name not in OPEN_MODELS:
            schema["additionalProperties"] = False
    return closed


def _operation(spec: dict[str, Any], method: str, template: str) -> dict[str, Any]:
    operation: dict[str, Any] = spec["paths"][template][method.lower()]
    return operation


def _check(spec: dict[str, Any], method: str, template: str, response: Any) -> None:
    assert response.status_code < 300, response.text
    status = str(response.status_code)
    media_type = response.headers["content-type"].split(";")[0]
    declared = _operation(spec, method, template)["responses"][status]["content"][media_type]
    schema = {**declared["schema"], "components": _closed(spec["components"])}
    errors = [str(e) for e in jsonschema_rs.validator_for(schema).iter_errors(response.json())]
    assert errors == [], (method, template)


@pytest.fixture(scope="module")
def kernel(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Kernel]:
    home = tmp_path_factory.mktemp("openapi-bodies")
    built = build_kernel(
        load_settings(home=home, packs=Path(home) / "no-packs", database_url=None, redis_url=None)
    )
    yield built
    built.close()


@pytest.fixture(scope="module")
def client(kernel: Kernel) -> TestClient:
    return api_client(kernel)


def test_a_decision_and_its_ledger_entry_match_their_schemas(
    spec: dict[str, Any], client: TestClient
) -> None:
    made = client.post("/v1/decisions", json=decision_body(), headers={"Idempotency-Key": "b-1"})
    decision = made.json()
    got = client.get(f"/v1/decisions/{decision['decision_id']}")
    _check(spec, "GET", "/v1/decisions/{decision_id}", got)
    assert got.json()["decision_id"] == decision["decision_id"]
    _check(spec, "GET", "/v1/decisions", client.get("/v1/decisions"))
    seq = decision["ledger"]["seq"]
    _check(spec, "GET", "/v1/ledger/entries/{seq}", client.get(f"/v1/ledger/entries/{seq}"))
    _check(spec, "GET", "/v1/ledger/entries", client.get("/v1/ledger/entries"))
    proof = client.get(f"/v1/ledger/proofs/inclusion/{seq}")
    _check(spec, "GET", "/v1/ledger/proofs/inclusion/{seq}", proof)
    _check(spec, "GET", "/v1/ledger/head", client.get("/v1/ledger/head"))
    _check(spec, "GET", "/v1/packs", client.get("/v1/packs"))
    dry_run = client.post(
        f"/v1/packs/{decision['pack']}/evaluate", json={"input": decision_body()["input"]}
    )
    _check(spec, "POST", "/v1/packs/{name}/evaluate", dry_run)
    assert any("values" in o for o in dry_run.json()["outcomes"])


def test_an_account_a_transfer_and_a_payment_match_their_schemas(
    spec: dict[str, Any], client: TestClient, kernel: Kernel
) -> None:
    payer = open_funded_payer(kernel.accounting, "payer-bodies")
    _check(spec, "GET", "/v1/accounts/{account_id}", client.get(f"/v1/accounts/{payer}"))
    _check(spec, "GET", "/v1/accounts", client.get("/v1/accounts"))
    balance = client.get(f"/v1/accounts/{payer}/balance")
    _check(spec, "GET", "/v1/accounts/{account_id}/balance", balance)
    both = client.get(f"/v1/accounts/{payer}/balance", params={"valid_at": "2100-01-01T00:00:00Z"})
    _check(spec, "GET", "/v1/accounts/{account_id}/balance", both)
    transfer = client.get(f"/v1/transfers/fund-{payer}")
    _check(spec, "GET", "/v1/transfers/{transfer_id}", transfer)
    _check(spec, "GET", "/v1/transfers", client.get("/v1/transfers"))
    _check(spec, "GET", "/v1/transfers", client.get("/v1/transfers", params={"format": "json"}))
    payment = client.post(
        "/v1/payments",
        json={
            "payer_account": payer,
            "payee": {
                "name": "Acme",
                "account_number": "000123456789",
                "routing_number": "021000021",
            },
            "amount": 12_500,
            "currency": "USD",
            "purpose": "invoice 42",
            "metadata": {"counterparty_verified": True},
        },
        headers={"Idempotency-Key": "pay-bodies"},
    )
    assert payment.status_code == 201, payment.text
    payment_id = payment.json()["payment_id"]
    got = client.get(f"/v1/payments/{payment_id}")
    _check(spec, "GET", "/v1/payments/{payment_id}", got)
    assert got.json()["history"], "a payment's history holds its sealed steps"
    _check(spec, "GET", "/v1/payments", client.get("/v1/payments"))


def test_a_case_matches_its_schema(
    spec: dict[str, Any], client: TestClient, kernel: Kernel
) -> None:
    alert = {
        "alert_id": "alert-bodies",
        "alert_type": "card_testing",
        "subject": "card-bodies",
        "risk_score": 0.9,
        "raised_by": "agent-x",
    }
    case = kernel.cases.open_from_alert(kernel.settings.tenant, alert)
    _check(spec, "GET", "/v1/cases/{case_id}", client.get(f"/v1/cases/{case.case_id}"))
    _check(spec, "GET", "/v1/cases", client.get("/v1/cases"))


def test_the_health_routes_match_their_schemas(spec: dict[str, Any], client: TestClient) -> None:
    _check(spec, "GET", "/healthz", client.get("/healthz"))
    _check(spec, "GET", "/readyz", client.get("/readyz"))


def test_a_drifted_model_is_caught(spec: dict[str, Any], client: TestClient) -> None:
    """The check above can fail: an answer with a member its model does not name."""
    answer = client.get("/healthz")
    drifted = {**answer.json(), "uptime": 1}
    schema = {
        **_operation(spec, "GET", "/healthz")["responses"]["200"]["content"]["application/json"][
            "schema"
        ],
        "components": _closed(spec["components"]),
    }
    assert not jsonschema_rs.validator_for(schema).is_valid(drifted)
