"""Payments and the panic switch over HTTP, in process, on a real standalone kernel."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
from fastapi.testclient import TestClient

from paygod.bootstrap import Kernel, build_kernel
from paygod.payments.signing import SIGNATURE_HEADER, sign
from paygod.payments.wiring import webhook_secret
from tests.support.accounts import open_funded_payer
from tests.support.http import api_client, principal_headers
from tests.support.stepup import SecondFactor
from tests.unit.payments.support import US_BANK


@pytest.fixture
def kernel(paygod_home: Path) -> Iterator[Kernel]:
    kernel = build_kernel()
    open_funded_payer(kernel.accounting, amount=50_000_000)
    yield kernel
    kernel.close()


def body(amount: int = 12_500, **kw: object) -> dict[str, object]:
    return {
        "payer_account": "agent-1",
        "payee": US_BANK,
        "amount": amount,
        "currency": "USD",
        "purpose": "invoice 42",
        "metadata": {"counterparty_verified": True},
        **kw,
    }


def test_quote_ranks_rails_with_reasons(kernel: Kernel) -> None:
    client = api_client(kernel)
    r = client.post(
        "/v1/payments/quote",
        json={"amount": 10_000, "currency": "USD", "payee": US_BANK, "rail_preference": "fastest"},
    )
    assert r.status_code == 200, r.text
    data = r.json()
    assert data["rail"] == "instant"
    assert data["selected"]["reason"] == "selected: fastest eligible rail"
    assert {a["rail"] for a in data["alternatives"]} == {
        "ach", "wire", "card", "sepa_credit", "internal",
    }  # fmt: skip


def test_payment_lifecycle_over_http(kernel: Kernel) -> None:
    client = api_client(kernel)
    r = client.post("/v1/payments", json=body(), headers={"Idempotency-Key": "pay-1"})
    assert r.status_code == 201, r.text
    payment_id = r.json()["payment_id"]
    assert r.json()["status"] == "held"
    again = client.post("/v1/payments", json=body(), headers={"Idempotency-Key": "pay-1"})
    assert again.status_code == 200 and again.json()["payment_id"] == payment_id
    clash = client.post("/v1/payments", json=body(999), headers={"Idempotency-Key": "pay-1"})
    assert clash.status_code == 409
    kernel.executor.drain()
    shown = client.get(f"/v1/payments/{payment_id}").json()
    assert shown["status"] == "settled"
    assert [h["transition"] for h in shown["history"]][-1] == "settled"
    assert client.get("/v1/payments/nope").status_code == 404


@pytest.mark.parametrize(
    ("patch", "pointer"),
    [({"amount": 12.5}, "/amount"), ({"amount": "100"}, "/amount"), ({"colour": "red"}, "/colour")],
)
def test_invalid_payment_is_422_with_pointer(kernel: Kernel, patch: dict, pointer: str) -> None:  # type: ignore[type-arg]
    r = api_client(kernel).post("/v1/payments", json={**body(), **patch})
    assert r.status_code == 422
    assert r.headers["content-type"].startswith("application/problem+json")
    assert pointer in [e["pointer"] for e in r.json()["errors"]]


def test_unverified_counterparty_is_denied_by_the_payment_pack(kernel: Kernel) -> None:
    client = api_client(kernel)
    r = client.post("/v1/payments", json=body(metadata={}), headers={"Idempotency-Key": "u"})
    assert r.status_code == 201, r.text
    assert r.json()["status"] == "denied"
    assert "not verified" in r.json()["failure_reason"]
    decision_id = r.json()["decision"]["decision_id"]
    sealed = client.get(f"/v1/decisions/{decision_id}")
    assert sealed.status_code == 200 and sealed.json()["decision"] == "deny"


def test_maker_checker_over_http(kernel: Kernel) -> None:
    maker = api_client(kernel, principal_headers(kernel, name="maker"))
    checker = api_client(
        kernel,
        principal_headers(
            kernel, roles=["compliance_officer"], tenant_id="default", kind="human", name="checker"
        ),
    )
    big_wire = body(1_500_000, rail_preference="wire")
    r = maker.post("/v1/payments", json=big_wire, headers={"Idempotency-Key": "big"})
    assert r.status_code == 201, r.text
    assert r.json()["decision"]["verdict"] == "review"
    assert "human review" in r.json()["decision"]["reason"]
    payment_id = r.json()["payment_id"]
    own = maker.post(f"/v1/payments/{payment_id}/approve", json={"note": "mine"})
    assert own.status_code == 403
    human = next(p for p in kernel.identity.list_principals("default") if p.name == "checker")
    factor = SecondFactor(kernel, human)
    bare = checker.post(f"/v1/payments/{payment_id}/approve", json={"note": "checked"})
    assert bare.status_code == 401 and "step-up" in bare.json()["type"]  # a human steps up
    ok = checker.post(
        f"/v1/payments/{payment_id}/approve", json={"note": "checked"}, headers=factor.header()
    )
    assert ok.status_code == 200, ok.text
    assert ok.json()["status"] == "held"
    assert ok.json()["approvals"][0]["note"] == "checked"


def test_panic_switch_over_http(kernel: Kernel) -> None:
    client = api_client(kernel)
    assert client.get("/v1/admin/panic").json()["on"] is False
    missing = client.post("/v1/admin/panic", json={"on": True})
    assert missing.status_code == 422
    on = client.post("/v1/admin/panic", json={"on": True, "reason": "drill"})
    assert on.status_code == 200 and on.json()["on"] is True
    r = client.post("/v1/payments", json=body(), headers={"Idempotency-Key": "frozen"})
    assert r.status_code == 201  # decisions continue while frozen
    assert kernel.executor.run_once().frozen is True
    assert client.get(f"/v1/payments/{r.json()['payment_id']}").json()["status"] == "held"
    client.post("/v1/admin/panic", json={"on": False})
    kernel.executor.drain()
    assert client.get(f"/v1/payments/{r.json()['payment_id']}").json()["status"] == "settled"
    kinds = [e.kind for e in kernel.ledger.entries(limit=1000)]
    assert kinds.count("panic") == 2


def test_settlement_webhook_needs_a_signature_not_an_api_key(kernel: Kernel) -> None:
    client = api_client(kernel)
    kernel.payments.connectors["ach"].settle_after = 3600  # type: ignore[attr-defined]
    r = client.post("/v1/payments", json=body(), headers={"Idempotency-Key": "wh"})
    payment_id = r.json()["payment_id"]
    kernel.executor.drain()
    payload = orjson.dumps({"idempotency_key": payment_id, "status": "settled"})
    anonymous = TestClient(client.app, raise_server_exceptions=False)
    bad = anonymous.post(
        "/v1/payments/webhooks/ach", content=payload, headers={SIGNATURE_HEADER: "t=1,v1=00"}
    )
    assert bad.status_code == 401
    secret = webhook_secret(kernel.settings.home)
    now = int(kernel.clock.now().timestamp())
    good = anonymous.post(
        "/v1/payments/webhooks/ach",
        content=payload,
        headers={SIGNATURE_HEADER: sign(secret, payload, timestamp=now)},
    )
    assert good.status_code == 200, good.text
    assert good.json()["status"] == "settled"


def test_agents_see_their_own_payments_and_tenants_are_isolated(kernel: Kernel) -> None:
    agent_a = api_client(
        kernel, principal_headers(kernel, roles=["agent"], tenant_id="default", name="agent-a")
    )
    agent_b = api_client(
        kernel, principal_headers(kernel, roles=["agent"], tenant_id="default", name="agent-b")
    )
    other_tenant = api_client(
        kernel, principal_headers(kernel, roles=["admin"], tenant_id="globex", name="globex")
    )
    # Scope `own`: an agent pays from its own wallet only, never on another's behalf.
    refused = agent_a.post("/v1/payments", json=body(), headers={"Idempotency-Key": "own-0"})
    assert refused.status_code == 422, refused.text
    assert refused.json()["errors"][0]["pointer"] == "/payer_account"
    wallet = _wallet_of(kernel, agent_a)
    r = agent_a.post(
        "/v1/payments", json=body(payer_account=wallet), headers={"Idempotency-Key": "own-1"}
    )
    assert r.status_code == 201, r.text
    payment_id = r.json()["payment_id"]
    assert agent_a.get(f"/v1/payments/{payment_id}").status_code == 200
    assert agent_b.get(f"/v1/payments/{payment_id}").status_code == 404
    # Agent B replaying A's key learns that it is taken, not A's payment.
    theirs = agent_b.post(
        "/v1/payments", json=body(payer_account=wallet), headers={"Idempotency-Key": "own-2"}
    )
    assert theirs.status_code == 422, theirs.text
    replay = agent_b.post(
        "/v1/payments",
        json=body(payer_account=_wallet_of(kernel, agent_b)),
        headers={"Idempotency-Key": "own-1"},
    )
    assert replay.status_code == 409 and payment_id not in replay.text
    assert other_tenant.get(f"/v1/payments/{payment_id}").status_code == 404
    assert api_client(kernel).get(f"/v1/payments/{payment_id}").status_code == 200  # platform


def _wallet_of(kernel: Kernel, agent: TestClient) -> str:
    """A funded USD account owned by the agent behind `agent`'s credentials."""
    me = agent.get("/v1/identity/me").json()
    owner = str(me["principal_id"])
    return open_funded_payer(kernel.accounting, f"wallet-{owner}", 1_000_000, owner=owner)


@pytest.mark.parametrize(
    ("changes", "pointer"),
    [
        ({"payer_account": "no-such-account"}, "/payer_account"),
        ({"currency": "EUR"}, "/currency"),  # agent-1 holds USD
    ],
)
def test_a_payer_account_that_cannot_pay_is_422_and_nothing_recorded(
    kernel: Kernel, changes: dict[str, object], pointer: str
) -> None:
    client = api_client(kernel)
    size = kernel.ledger.size
    r = client.post("/v1/payments", json=body(**changes), headers={"Idempotency-Key": "bad"})
    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert [e["pointer"] for e in r.json()["errors"]] == [pointer]
    assert "nothing was recorded" in r.json()["detail"]
    assert kernel.ledger.size == size  # no decision, no payment entry
    assert (
        client.post("/v1/payments", json=body(), headers={"Idempotency-Key": "bad"}).status_code
        == 201
    )


@pytest.mark.parametrize("purpose", ["inv\u202e24", "invoice\n42", "invoice\u200b42", "a\tb"])
def test_a_purpose_with_an_invisible_character_is_422_and_nothing_recorded(
    kernel: Kernel, purpose: str
) -> None:
    size = kernel.ledger.size
    r = api_client(kernel).post(
        "/v1/payments", json=body(purpose=purpose), headers={"Idempotency-Key": "pur-1"}
    )
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert [e["pointer"] for e in r.json()["errors"]] == ["/purpose"]
    assert kernel.ledger.size == size
