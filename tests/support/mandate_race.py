"""64 payments at once against one 100.00 mandate on a live server: the allowance is a
hold in the same accounting batch as each payment's own, inside the ledger's serialised
write, so however the requests interleave over processes, no more than 100.00 is held."""

from __future__ import annotations

import threading
import uuid
from typing import Any

import httpx

from paygod.mandates.httpsig import HttpMessage, content_digest, sign_message
from tests.support.mandates import PAYEE, Party, new_key, signed_grant

PAYMENTS = 64
AMOUNT = 300  # 3.00 USD: 64 of them would be 192.00; 33 fit in 100.00 (99.00)


def _post(url: str, path: str, headers: dict[str, str], body: dict[str, Any]) -> dict[str, Any]:
    answer = httpx.post(url + path, json=body, headers=headers, timeout=30)
    assert answer.status_code in (200, 201), answer.text
    return dict(answer.json())


def setup(url: str, admin: dict[str, str], tag: str) -> tuple[dict[str, str], Party, str]:
    """(the agent's headers, the agent with its key, the mandate id)."""
    human = _post(
        url,
        "/v1/identity/principals",
        admin,
        {"name": f"human-{tag}", "kind": "human", "roles": ["operator"], "tenant_id": "default"},
    )
    agent = _post(
        url,
        "/v1/identity/principals",
        admin,
        {"name": f"agent-{tag}", "kind": "agent", "roles": ["agent"], "tenant_id": "default"},
    )
    key = _post(url, f"/v1/identity/principals/{agent['principal_id']}/keys", admin, {})
    agent_headers = {"Authorization": f"Bearer {key['api_key']}"}
    grantor = Party(human["principal_id"], f"human-{tag}-key", new_key())
    holder = Party(agent["principal_id"], f"agent-{tag}-key", new_key("p256"))
    for party in (grantor, holder):
        _post(
            url,
            "/v1/mandates/keys",
            admin,
            {"key_id": party.key_id, "jwk": party.jwk, "principal_id": party.principal_id},
        )
    grant = signed_grant(grantor, holder.principal_id, {"currency": "USD", "budget": "100.00"})
    mandate = _post(url, "/v1/mandates", admin, {"grant": grant})
    # One payer account per payment (all the agent's): the bundled packs' velocity limit
    # (20 an hour per paying account) must not be what stops them, only the mandate.
    _post(url, "/v1/accounts", admin, {"id": f"treasury-{tag}", "ledger": "USD", "code": "equity"})
    for i in range(PAYMENTS):
        payer = f"payer-{tag}-{i}"
        _post(
            url,
            "/v1/accounts",
            admin,
            {
                "id": payer,
                "ledger": "USD",
                "code": "liability",
                "owner": agent["principal_id"],
                "flags": ["debits_must_not_exceed_credits"],
            },
        )
        _post(
            url,
            "/v1/transfers",
            admin,
            {
                "id": f"fund-{payer}",
                "debit_account_id": f"treasury-{tag}",
                "credit_account_id": payer,
                "amount": 100_000,
                "ledger": "USD",
            },
        )
    return agent_headers, holder, str(mandate["mandate_id"])


def payment(tag: str, mandate_id: str, i: int) -> dict[str, Any]:
    return {
        "payer_account": f"payer-{tag}-{i}",
        "payee": PAYEE,
        "amount": AMOUNT,
        "currency": "USD",
        "purpose": f"order {i}",
        "metadata": {"counterparty_verified": True, "mandate_id": mandate_id},
    }


def signed_headers(url: str, holder: Party, body: bytes, nonce: str) -> dict[str, str]:
    """RFC 9421 headers for a POST /v1/payments with `body`, by the agent's key."""
    import time

    now = int(time.time())
    headers = [("Content-Type", "application/json"), ("Content-Digest", content_digest(body))]
    message = HttpMessage("POST", url + "/v1/payments", headers, body)
    extra = sign_message(
        message,
        holder.private,
        components=("@method", "@authority", "@path", "content-digest"),
        params={"created": now, "expires": now + 60, "keyid": holder.key_id, "nonce": nonce},
    )
    return dict(headers + extra)


def assert_mandate_held(url: str, admin: dict[str, str], tag: str) -> None:
    agent, holder, mandate_id = setup(url, admin, tag)
    start = threading.Barrier(PAYMENTS)
    answers: list[httpx.Response | None] = [None] * PAYMENTS

    def send(i: int) -> None:
        import json

        body = json.dumps(payment(tag, mandate_id, i)).encode()
        headers = {
            **agent,
            **signed_headers(url, holder, body, uuid.uuid4().hex),
            "Idempotency-Key": f"{tag}-{i}",
        }
        start.wait()
        answers[i] = httpx.post(url + "/v1/payments", content=body, headers=headers, timeout=60)

    threads = [threading.Thread(target=send, args=(i,)) for i in range(PAYMENTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    got = [a for a in answers if a is not None]
    assert {a.status_code for a in got} <= {200, 201, 202}, [a.text for a in got][:3]
    statuses = [a.json()["status"] for a in got]
    held = [s for s in statuses if s == "held"]
    assert set(statuses) <= {"held", "failed"}, statuses  # only the mandate refused any
    assert len(held) * AMOUNT <= 10_000, statuses
    assert len(held) == 10_000 // AMOUNT, statuses  # every payment that fits got through
    shown = httpx.get(f"{url}/v1/mandates/{mandate_id}", headers=admin, timeout=10).json()
    assert shown["allowance"]["remaining_minor"] == 10_000 - len(held) * AMOUNT
