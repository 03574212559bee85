"""Actions end to end in process: a decision's action performed once by the executor,
against a real local HTTP receiver and the real accounting service on SQLite."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient

from paygod.bootstrap import Kernel, build_kernel
from paygod.executor.backoff import Backoff
from paygod.kernel.settings import load_settings
from tests.support.http import api_client
from tests.support.receiver import Receiver, receiver

PACK = """\
api_version: paygod/v1
kind: Pack
metadata: {name: orders, version: 1.0.0}
spec:
  inputs:
    - name: order
  policy:
    rules:
      - name: needs-consent
        condition: "input.order.kind == 'marketing' and not measure.consent.marketing"
        decision: deny
        reason: the subject has not consented to marketing
      - name: blocked
        condition: "input.order.blocked"
        decision: deny
        reason: blocked
      - name: review
        condition: "input.order.review"
        decision: flag
        reason: needs a human
      - name: notify
        condition: "input.order.notify"
        decision: allow
        reason: tell the partner
        action: {type: webhook, destination: partner, payload: {from: rule}}
      - name: ok
        condition: "true"
        decision: allow
        reason: fine
"""
SUBJECT = "urn:customer:42"


@pytest.fixture
def kernel(paygod_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Kernel]:
    packs = tmp_path / "packs" / "orders"
    packs.mkdir(parents=True)
    (packs / "pack.yaml").write_text(PACK)
    monkeypatch.setenv("PAYGOD_PACKS", str(tmp_path / "packs"))
    k = build_kernel(load_settings())
    # Retries at once: the test drives the worker round by round.
    k.executor.backoff = Backoff(initial=0, maximum=0, jitter=0, max_attempts=4)
    k.actions.max_attempts = 4
    try:
        yield k
    finally:
        k.close()


@pytest.fixture
def client(kernel: Kernel) -> TestClient:
    return api_client(kernel)


@pytest.fixture
def partner(client: TestClient) -> Iterator[tuple[Receiver, str]]:
    with receiver() as rx:
        r = client.put(
            "/v1/actions/destinations/partner", json={"url": rx.url, "allow_private": True}
        )
        assert r.status_code == 200, r.text
        yield rx, r.json()["secret"]


def decide(client: TestClient, key: str, order: dict[str, Any], action: Any = None) -> Any:
    body: dict[str, Any] = {"subject": SUBJECT, "input": {"order": order}}
    if action is not None:
        body["action"] = action
    return client.post("/v1/decisions", json=body, headers={"Idempotency-Key": key})


WEBHOOK = {"type": "webhook", "destination": "partner", "payload": {"order_id": "o-1"}}


def verify_signature(secret: str, header: str, body: bytes) -> None:
    parts = dict(p.split("=", 1) for p in header.split(","))
    expected = hmac.new(
        secret.encode(), f"{parts['t']}.".encode() + body, hashlib.sha256
    ).hexdigest()
    assert hmac.compare_digest(expected, parts["v1"])


def test_allowed_webhook_is_signed_sent_once_and_sealed(
    client: TestClient, kernel: Kernel, partner: tuple[Receiver, str]
) -> None:
    rx, secret = partner
    r = decide(client, "k1", {"n": 1}, WEBHOOK)
    assert r.status_code == 201, r.text
    decision = r.json()
    assert decision["action"]["type"] == "webhook" and decision["action"]["source"] == "request"
    kernel.executor.drain()
    kernel.executor.drain()  # a second pass finds nothing to do
    assert len(rx.deliveries) == 1
    delivery = rx.deliveries[0]
    verify_signature(secret, delivery.headers["paygod-signature"], delivery.body)
    with pytest.raises(AssertionError):
        verify_signature(
            "another-secret-of-some-length", delivery.headers["paygod-signature"], delivery.body
        )
    sent = orjson.loads(delivery.body)
    assert sent["decision_id"] == decision["decision_id"]
    assert sent["payload"] == {"order_id": "o-1"}
    assert delivery.headers["idempotency-key"] == decision["decision_id"]
    status = client.get(f"/v1/decisions/{decision['decision_id']}/action").json()
    assert status["status"] == "done" and status["attempts"] == 1
    assert [e["status"] for e in status["results"]] == ["performing", "done"]
    # Each result is sealed and names its decision's ledger entry.
    done = status["results"][-1]
    assert done["decision_seq"] == decision["ledger"]["seq"]
    entry = client.get(f"/v1/ledger/entries/{done['seq']}").json()
    assert entry["kind"] == "action" and entry["payload"]["decision_id"] == decision["decision_id"]


def test_retries_with_the_same_action_id_then_done(
    client: TestClient, kernel: Kernel, partner: tuple[Receiver, str]
) -> None:
    rx, _ = partner
    rx.script = [503, 500]
    decision = decide(client, "k2", {"n": 2}, WEBHOOK).json()
    kernel.executor.drain()
    assert len(rx.deliveries) == 3
    assert {d.headers["paygod-action-id"] for d in rx.deliveries} == {decision["decision_id"]}
    status = client.get(f"/v1/decisions/{decision['decision_id']}/action").json()
    assert status["status"] == "done"
    assert [e["status"] for e in status["results"]].count("attempt_failed") == 2


def test_every_retry_failing_is_dead_lettered_and_sealed(
    client: TestClient, kernel: Kernel, partner: tuple[Receiver, str]
) -> None:
    rx, _ = partner
    rx.script = [503] * 10
    decision = decide(client, "k3", {"n": 3}, WEBHOOK).json()
    kernel.executor.drain()
    status = client.get(f"/v1/decisions/{decision['decision_id']}/action").json()
    assert status["status"] == "dead"
    assert status["outbox"]["status"] == "dead"
    assert len(rx.deliveries) == 4


def test_a_4xx_is_refused_at_once(
    client: TestClient, kernel: Kernel, partner: tuple[Receiver, str]
) -> None:
    rx, _ = partner
    rx.script = [400]
    decision = decide(client, "k4", {"n": 4}, WEBHOOK).json()
    kernel.executor.drain()
    status = client.get(f"/v1/decisions/{decision['decision_id']}/action").json()
    assert status["status"] == "refused" and len(rx.deliveries) == 1


def test_crash_after_the_send_is_delivered_again_with_the_same_id_and_sealed_once(
    client: TestClient,
    kernel: Kernel,
    partner: tuple[Receiver, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rx, _ = partner
    service = kernel.actions
    real_seal = service._seal
    crashed: list[str] = []

    def dies_before_recording_done(run: Any, status: str, **details: Any) -> None:
        if status == "done" and not crashed:
            crashed.append(run.decision_id)
            raise RuntimeError("worker died after the send")
        real_seal(run, status, **details)

    monkeypatch.setattr(service, "_seal", dies_before_recording_done)
    decision = decide(client, "k5", {"n": 5}, WEBHOOK).json()
    kernel.executor.drain()
    assert crashed
    # Sent twice under one action id: a receiver keeping ids performs it once.
    assert len(rx.deliveries) == 2 and rx.effects == 1
    status = client.get(f"/v1/decisions/{decision['decision_id']}/action").json()
    assert [e["status"] for e in status["results"]].count("done") == 1
    kernel.executor.drain()
    assert len(rx.deliveries) == 2


def test_panic_freezes_actions_and_release_performs_them(
    client: TestClient, kernel: Kernel, partner: tuple[Receiver, str]
) -> None:
    rx, _ = partner
    assert client.post("/v1/admin/panic", json={"on": True, "reason": "drill"}).status_code == 200
    decision = decide(client, "k6", {"n": 6}, WEBHOOK).json()
    assert decision["decision"] == "allow"  # decisions keep being made and sealed
    report = kernel.executor.drain()
    assert report.frozen and rx.deliveries == []
    status = client.get(f"/v1/decisions/{decision['decision_id']}/action").json()
    assert status["status"] == "pending"
    assert client.post("/v1/admin/panic", json={"on": False}).status_code == 200
    kernel.executor.drain()
    assert len(rx.deliveries) == 1


def test_deny_never_acts_and_flag_waits_for_an_approval(
    client: TestClient, kernel: Kernel, partner: tuple[Receiver, str]
) -> None:
    rx, _ = partner
    denied = decide(client, "k7", {"blocked": True}, WEBHOOK).json()
    flagged = decide(client, "k8", {"review": True}, WEBHOOK).json()
    rejected = decide(client, "k9", {"review": True, "n": 9}, WEBHOOK).json()
    kernel.executor.drain()
    assert rx.deliveries == []
    get = lambda d: client.get(f"/v1/decisions/{d['decision_id']}/action").json()  # noqa: E731
    assert get(denied)["status"] == "skipped"
    assert get(flagged)["status"] == "awaiting_approval"
    # A denied decision's action cannot be approved into existence.
    r = client.post(f"/v1/decisions/{denied['decision_id']}/action/approve", json={})
    assert r.status_code == 409
    r = client.post(f"/v1/decisions/{rejected['decision_id']}/action/reject", json={"note": "no"})
    assert r.status_code == 200 and r.json()["status"] == "skipped"
    r = client.post(f"/v1/decisions/{flagged['decision_id']}/action/approve", json={"note": "ok"})
    assert r.status_code == 200, r.text
    kernel.executor.drain()
    assert len(rx.deliveries) == 1
    assert orjson.loads(rx.deliveries[0].body)["decision_id"] == flagged["decision_id"]
    assert get(flagged)["status"] == "done"
    assert (
        client.post(f"/v1/decisions/{flagged['decision_id']}/action/approve", json={}).status_code
        == 409
    )


def test_a_rule_names_the_action(
    client: TestClient, kernel: Kernel, partner: tuple[Receiver, str]
) -> None:
    rx, _ = partner
    decision = decide(client, "k10", {"notify": True}).json()
    assert decision["action"]["source"] == "rule"
    plain = decide(client, "k11", {"n": 11}).json()
    assert "action" not in plain
    kernel.executor.drain()
    assert len(rx.deliveries) == 1
    assert orjson.loads(rx.deliveries[0].body)["payload"] == {"from": "rule"}
    assert client.get(f"/v1/decisions/{plain['decision_id']}/action").status_code == 404


def test_destinations_come_from_the_allowlist_only(client: TestClient, kernel: Kernel) -> None:
    size = kernel.ledger.size
    r = decide(client, "k12", {"n": 12}, {"type": "webhook", "destination": "nowhere"})
    assert r.status_code == 422
    assert r.json()["errors"][0]["pointer"] == "/action/destination"
    r = decide(
        client,
        "k13",
        {"n": 13},
        {"type": "webhook", "destination": "partner", "url": "http://169.254.169.254/"},
    )
    assert r.status_code == 422
    assert "/action/url" in {e["pointer"] for e in r.json()["errors"]}
    r = decide(client, "k14", {"n": 14}, {"type": "teleport"})
    assert r.status_code == 422 and r.json()["errors"][0]["pointer"] == "/action/type"
    assert kernel.ledger.size == size  # nothing recorded
    for url, pointer in (
        ("http://127.0.0.1:9/x", "/url"),
        ("http://[::1]/x", "/url"),
        ("http://10.0.0.7/x", "/url"),
        ("http://localhost/x", "/url"),
        ("ftp://example.com/x", "/url"),
        ("http://user:pw@example.com/x", "/url"),
    ):
        r = client.put("/v1/actions/destinations/bad", json={"url": url})
        assert r.status_code == 422, url
        assert r.json()["errors"][0]["pointer"] == pointer
    r = client.put("/v1/actions/destinations/bad name", json={"url": "https://example.com"})
    assert r.status_code == 422
    assert client.get("/v1/actions/destinations").json()["destinations"] == []


def test_a_name_that_later_resolves_privately_is_refused_at_send(
    client: TestClient, kernel: Kernel, monkeypatch: pytest.MonkeyPatch
) -> None:
    import socket

    with receiver() as rx:
        port = rx.url.split(":")[2].split("/")[0]
        # Public when written, loopback when sent: the send re-checks every answer.
        answers = iter(["93.184.216.34", "127.0.0.1", "127.0.0.1", "127.0.0.1", "127.0.0.1"])

        def fake_dns(host: str, *args: Any, **kwargs: Any) -> list[Any]:
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (next(answers), int(port)))]

        monkeypatch.setattr(socket, "getaddrinfo", fake_dns)
        r = client.put(
            "/v1/actions/destinations/rebind", json={"url": f"http://rebind.example:{port}/x"}
        )
        assert r.status_code == 200, r.text
        action = {"type": "webhook", "destination": "rebind"}
        decision = decide(client, "k15", {"n": 15}, action).json()
        kernel.executor.drain()
        assert rx.deliveries == []
        status = client.get(f"/v1/decisions/{decision['decision_id']}/action").json()
        assert status["status"] == "refused"
        assert "non-public" in status["results"][-1]["error"]


def test_transfer_action_moves_money_once_through_accounting(
    client: TestClient, kernel: Kernel
) -> None:
    for body in (
        {
            "id": "wallet",
            "ledger": "EUR",
            "code": "liability",
            "flags": ["debits_must_not_exceed_credits"],
        },
        {"id": "bank", "ledger": "EUR", "code": "asset"},
    ):
        assert client.post("/v1/accounts", json=body).status_code == 201
    fund = {"id": "fund", "debit_account_id": "bank", "credit_account_id": "wallet", "amount": 500}
    assert client.post("/v1/transfers", json=fund).status_code == 201
    action = {
        "type": "transfer",
        "payload": {"debit_account_id": "wallet", "credit_account_id": "bank", "ledger": "EUR"},
    }
    r = decide(client, "t1", {"n": 1}, {**action, "payload": {**action["payload"], "amount": 5}})
    assert r.status_code == 422  # no amount judged by the decision
    body = {
        "subject": SUBJECT,
        "input": {"order": {"n": 2}},
        "context": {"amount_minor": 200},
        "action": action,
    }
    decision = client.post("/v1/decisions", json=body, headers={"Idempotency-Key": "t2"}).json()
    message = kernel.executor.store.get(decision["action"]["event_id"])
    assert message is not None
    kernel.executor.drain()
    # The same message performed again (a redelivery after a lost ack) changes nothing.
    kernel.actions.perform(message)
    balance = client.get("/v1/accounts/wallet/balance").json()
    assert balance["credits_posted"] - balance["debits_posted"] == 300
    status = client.get(f"/v1/decisions/{decision['decision_id']}/action").json()
    assert status["status"] == "done"
    assert status["results"][-1]["result"]["transfer_id"] == f"action-{decision['decision_id']}"
    # More than the wallet holds: refused by the accounting limits, dead-lettered.
    body["context"] = {"amount_minor": 10_000}
    decision = client.post("/v1/decisions", json=body, headers={"Idempotency-Key": "t3"}).json()
    kernel.executor.drain()
    status = client.get(f"/v1/decisions/{decision['decision_id']}/action").json()
    assert status["status"] == "refused" and "exceed" in status["results"][-1]["error"]


def test_consent_is_read_when_deciding_and_withdrawal_stops_processing(
    client: TestClient, kernel: Kernel
) -> None:
    order = {"kind": "marketing"}
    assert decide(client, "c1", order).json()["decision"] == "deny"
    kernel.identity.consent.record("default", SUBJECT, "marketing", granted=True, actor="test")
    granted = decide(client, "c2", order).json()
    assert granted["decision"] == "allow"
    assert {
        "name": "consent.marketing",
        "value": True,
        "unit": "boolean",
        "provider": "identity:consent",
    } in granted["measurements"]
    kernel.identity.consent.record("default", SUBJECT, "marketing", granted=False, actor="test")
    withdrawn = decide(client, "c3", order).json()
    assert withdrawn["decision"] == "deny" and withdrawn["rule"] == "needs-consent"
    # Another tenant's grant is not this tenant's consent.
    kernel.identity.consent.record("acme", SUBJECT, "marketing", granted=True, actor="test")
    assert decide(client, "c4", order).json()["decision"] == "deny"
    # Replay re-reads the recorded consent, not today's.
    replay = client.get(f"/v1/ledger/entries/{granted['ledger']['seq']}")
    assert replay.status_code == 200
    assert kernel.decisions.replay(granted["ledger"]["seq"])["identical"] is True
