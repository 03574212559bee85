"""Secrets never enter the ledger: each kind of credential, through every write route and
`paygod ledger append`, is refused (422 / exit 2) with its JSON pointer, nothing recorded.

The routes are walked from the app itself (as test_receipts.py does), so a route added
later is covered without touching this file.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from paygod.bootstrap import Kernel, build_kernel
from paygod.kernel.settings import load_settings
from paygod.payments.signing import SIGNATURE_HEADER, sign
from paygod.payments.wiring import webhook_secret
from tests.credential_samples import PASSWORD_FIELD, SECRETS
from tests.e2e.conftest import run_cli
from tests.support.accounts import open_funded_payer
from tests.support.http import api_client
from tests.unit.payments.support import US_BANK

WRITES = {"post", "put", "patch", "delete"}
# Signed by their sender: the signature is checked before the body is read (401 here);
# a signed body is held to the same rule (`test_a_signed_webhook_*`).
SIGNED = {"/v1/payments/webhooks/{rail}", "/v1/kyc/webhooks/{provider}"}
KINDS = sorted(SECRETS)


@pytest.fixture(scope="module")
def kernel(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Kernel]:
    home = tmp_path_factory.mktemp("secrets")
    built = build_kernel(load_settings(home=home, database_url=None, redis_url=None))
    open_funded_payer(built.accounting, amount=1_000_000)
    yield built
    built.close()


@pytest.fixture(scope="module")
def http(kernel: Kernel) -> TestClient:
    return api_client(kernel)


def _write_routes(http: TestClient) -> list[tuple[str, str]]:
    spec = http.get("/openapi.json").json()
    return sorted(
        (method, template)
        for template, item in spec["paths"].items()
        if template.startswith("/v1/")
        for method in item
        if method in WRITES and template not in SIGNED
    )


def _refused(response: Any, pointer: str) -> None:
    assert response.status_code == 422, (response.status_code, response.text[:300])
    errors = response.json()["errors"]
    assert any(e["pointer"] == pointer and "credential" in e["message"] for e in errors), errors


@pytest.mark.parametrize("kind", KINDS)
def test_every_write_route_refuses_each_kind_of_secret(
    kind: str, kernel: Kernel, http: TestClient
) -> None:
    routes = _write_routes(http)
    assert len(routes) >= 40
    before = kernel.ledger.size
    for method, template in routes:
        path = re.sub(r"\{[^}]+\}", "x1", template)
        body = {"probe": {"deep": [f"value {SECRETS[kind]}"]}}
        response = http.request(method.upper(), path, json=body)
        _refused(response, "/probe/deep/0")
    assert kernel.ledger.size == before


def test_a_password_like_member_is_refused_on_every_write_route(
    kernel: Kernel, http: TestClient
) -> None:
    name, value = PASSWORD_FIELD
    before = kernel.ledger.size
    for method, template in _write_routes(http):
        path = re.sub(r"\{[^}]+\}", "x1", template)
        _refused(http.request(method.upper(), path, json={name: value}), f"/{name}")
    assert kernel.ledger.size == before


@pytest.mark.parametrize("kind", KINDS)
def test_valid_requests_carrying_a_secret_are_refused_on_the_hot_paths(
    kind: str, kernel: Kernel, http: TestClient
) -> None:
    """Well-formed decisions and payments take the ASGI hot path, not StrictJsonRoute: the
    services hold the same rule."""
    before = kernel.ledger.size
    secret = SECRETS[kind]
    decision = {
        "subject": "urn:paygod:agent:s",
        "input": {"payment": {"amount_minor": 10, "currency": "EUR", "memo": secret}},
    }
    _refused(
        http.post("/v1/decisions", json=decision, headers={"Idempotency-Key": f"s-{kind}"}),
        "/input/payment/memo",
    )
    payment = {
        "payer_account": "agent-1",
        "payee": US_BANK,
        "amount": 100,
        "currency": "USD",
        "purpose": "invoice 7",
        "metadata": {"note": secret},
    }
    _refused(
        http.post("/v1/payments", json=payment, headers={"Idempotency-Key": f"p-{kind}"}),
        "/metadata/note",
    )
    transfer = {
        "id": f"t-{kind}",
        "debit_account_id": "a",
        "credit_account_id": "b",
        "amount": 1,
        "metadata": {"ref": secret},
    }
    _refused(http.post("/v1/transfers", json=transfer), "/metadata/ref")
    assert kernel.ledger.size == before


@pytest.mark.parametrize("kind", KINDS)
def test_cli_ledger_append_refuses_each_kind_of_secret(
    kind: str, paygod_home: Path, tmp_path: Path
) -> None:
    payload = tmp_path / "p.json"
    payload.write_text(json.dumps({"amount": 1, "memo": SECRETS[kind]}))
    result = run_cli(
        "ledger", "append", "--kind", "observation", "--subject", "s-1",
        "--payload", str(payload),
    )  # fmt: skip
    assert result.code == 2, result.stdout
    assert len(result.stderr.strip().splitlines()) == 1
    assert "/memo" in result.stderr and "credential" in result.stderr
    assert json.loads(run_cli("ledger", "verify", "--json").stdout)["tree_size"] == 0


def test_a_signed_webhook_carrying_a_secret_is_refused(kernel: Kernel, http: TestClient) -> None:
    before = kernel.ledger.size
    body = json.dumps(
        {"idempotency_key": "p-1", "status": "settled", "detail": SECRETS["jwt"]}
    ).encode()
    now = int(kernel.clock.now().timestamp())
    signature = sign(webhook_secret(kernel.settings.home), body, timestamp=now)
    response = http.post(
        "/v1/payments/webhooks/ach", content=body, headers={SIGNATURE_HEADER: signature}
    )
    _refused(response, "/detail")
    assert kernel.ledger.size == before
