"""/v1/mandates as platforms drive it: a human operator registers a key and grants with
it, the agent sees only its own mandates and may not grant, bad input is problem+json with
a pointer and records nothing."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from paygod.bootstrap import Kernel, build_kernel
from paygod.identity.model import PrincipalKind, Role
from paygod.kernel.settings import load_settings
from tests.support.http import api_client, principal_headers
from tests.support.mandates import Party, new_key, signed_grant


@pytest.fixture
def kernel(tmp_path: Path) -> Iterator[Kernel]:
    built = build_kernel(load_settings(home=tmp_path / "home"))
    try:
        yield built
    finally:
        built.close()


def _me(client: TestClient) -> str:
    return str(client.get("/v1/identity/me").json()["principal_id"])


def test_grant_read_and_revoke_over_http(kernel: Kernel) -> None:
    human = api_client(
        kernel,
        principal_headers(
            kernel, roles=["operator"], kind="human", tenant_id="default", name="alice"
        ),
    )
    agent = api_client(
        kernel,
        principal_headers(kernel, roles=["agent"], kind="agent", tenant_id="default", name="bot"),
    )
    other = api_client(
        kernel,
        principal_headers(kernel, roles=["agent"], kind="agent", tenant_id="default", name="bot2"),
    )
    alice = Party(_me(human), "alice-1", new_key())
    registered = human.post("/v1/mandates/keys", json={"key_id": "alice-1", "jwk": alice.jwk})
    assert registered.status_code == 201, registered.text
    assert registered.json()["receipt"]["seq"] >= 0
    grant = signed_grant(
        alice, _me(agent), {"currency": "EUR", "budget": "200.00", "max_per_payment": "50.00"}
    )
    made = human.post("/v1/mandates", json={"grant": grant})
    assert made.status_code == 201, made.text
    mandate = made.json()
    assert mandate["allowance"] == {"remaining_minor": 20000}
    mine = agent.get("/v1/mandates").json()["mandates"]
    assert [m["mandate_id"] for m in mine] == [mandate["mandate_id"]]
    assert other.get("/v1/mandates").json()["mandates"] == []
    assert other.get(f"/v1/mandates/{mandate['mandate_id']}").status_code == 404
    assert agent.post("/v1/mandates", json={"grant": grant}).status_code == 403
    revoked = agent.post(f"/v1/mandates/{mandate['mandate_id']}/revoke", json={"reason": "done"})
    assert revoked.status_code == 200 and revoked.json()["status"] == "revoked"


def test_bad_grants_are_problems_with_pointers(kernel: Kernel) -> None:
    human = api_client(
        kernel,
        principal_headers(
            kernel, roles=["operator"], kind="human", tenant_id="default", name="bob"
        ),
    )
    agent_id = kernel.identity.create_principal(
        "default", "bot3", PrincipalKind.AGENT, {Role.AGENT}
    ).principal_id
    bob = Party(_me(human), "bob-1", new_key())
    assert (
        human.post("/v1/mandates/keys", json={"key_id": "bob-1", "jwk": bob.jwk}).status_code == 201
    )
    size = kernel.ledger.size
    cases = [
        ({"currency": "EUR", "budget": "19.999"}, "/constraints/budget", "amount-precision"),
        ({"currency": "EUR", "budget": "0"}, "/constraints/budget", "amount-invalid"),
        ({"currency": "EUR"}, "/constraints/budget", "invalid-input"),
    ]
    for constraints, pointer, code in cases:
        answer = human.post(
            "/v1/mandates", json={"grant": signed_grant(bob, agent_id, constraints)}
        )
        assert answer.status_code == 422, answer.text
        assert answer.headers["content-type"].startswith("application/problem+json")
        assert answer.json()["type"].endswith(code)
        assert answer.json()["errors"][0]["pointer"] == pointer
    forged = signed_grant(
        bob,
        agent_id,
        {"currency": "EUR", "budget": "1.00"},
        signer=Party(bob.principal_id, "bob-1", new_key()),
    )
    answer = human.post("/v1/mandates", json={"grant": forged})
    assert answer.status_code == 422 and answer.json()["type"].endswith("mandate-signature")
    bad_key = human.post("/v1/mandates/keys", json={"key_id": "k2", "jwk": {"kty": "RSA"}})
    assert bad_key.status_code == 422 and bad_key.json()["errors"][0]["pointer"] == "/jwk"
    assert kernel.ledger.size == size
