"""Notifications and documents over HTTP as tenant principals drive them."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from paygod.bootstrap import Kernel, build_kernel
from paygod.kernel.settings import load_settings
from tests.support.http import principal_headers, unthrottled_client


@pytest.fixture
def kernel(tmp_path: Path) -> Iterator[Kernel]:
    built = build_kernel(load_settings(home=tmp_path / "home", database_url=None, redis_url=None))
    yield built
    built.close()


def _principal(kernel: Kernel) -> str:
    return next(p.principal_id for p in kernel.identity.list_principals("acme") if p.name == "ops")


def test_inbox_over_http(kernel: Kernel) -> None:
    http: TestClient = unthrottled_client(kernel)
    admin = principal_headers(kernel, roles=["admin"], tenant_id="acme", name="admin")
    ops = principal_headers(kernel, roles=["operator"], tenant_id="acme", name="ops")
    ops_id = _principal(kernel)
    body = {"channel": "inapp", "target": ops_id, "event_types": ["notification.*"]}
    assert http.post("/v1/notifications/subscriptions", json=body, headers=ops).status_code == 403
    made = http.post("/v1/notifications/subscriptions", json=body, headers=admin)
    assert made.status_code == 201 and made.json()["receipt"]["seq"] >= 0
    sub = made.json()["subscription_id"]
    bad = http.post(
        "/v1/notifications/subscriptions",
        json={**body, "event_types": ["BAD pattern"]},
        headers=admin,
    )
    assert bad.status_code == 422 and bad.json()["errors"][0]["pointer"] == "/event_types/0"
    test = http.post(f"/v1/notifications/subscriptions/{sub}/test", headers=admin)
    assert test.status_code == 201
    kernel.executor.drain()
    inbox = http.get("/v1/notifications/inbox?unread=true", headers=ops).json()["messages"]
    assert [m["event_type"] for m in inbox] == ["notification.test"]
    assert http.get("/v1/notifications/inbox", headers=admin).json()["messages"] == []
    read = http.post(f"/v1/notifications/inbox/{inbox[0]['message_id']}/read", headers=ops)
    assert read.status_code == 204
    assert http.get("/v1/notifications/inbox?unread=true", headers=ops).json()["messages"] == []
    sent = http.get("/v1/notifications/deliveries?status=sent", headers=admin).json()
    assert sent["deliveries"][0]["digest"].startswith("sha256:")


def test_documents_over_http(kernel: Kernel) -> None:
    http: TestClient = unthrottled_client(kernel)
    admin = principal_headers(kernel, roles=["admin"], tenant_id="acme", name="admin")
    pdf = b"%PDF-1.7\n1 0 obj\n"
    body = {
        "kind": "kyc",
        "media_type": "application/pdf",
        "content_base64": base64.b64encode(pdf).decode(),
        "owner_subject": "customer:9",
    }
    made = http.post("/v1/documents", json=body, headers=admin)
    assert made.status_code == 201 and made.json()["retention_class"] == "aml_5y"
    doc = made.json()["document_id"]
    content = http.get(f"/v1/documents/{doc}/content", headers=admin)
    assert content.status_code == 200 and content.content == pdf
    assert content.headers["content-type"] == "application/pdf"
    assert content.headers["cache-control"] == "no-store"
    accessed = kernel.ledger.history(f"document:{doc}")[-1]
    assert accessed.kind == "document.accessed"
    bad = http.post("/v1/documents", json={**body, "content_base64": "@@"}, headers=admin)
    assert bad.status_code == 422 and bad.json()["errors"][0]["pointer"] == "/content_base64"
    fake = http.post(
        "/v1/documents",
        json={**body, "content_base64": base64.b64encode(b"MZ\x90\x00").decode()},
        headers=admin,
    )
    assert fake.status_code == 422 and fake.json()["errors"][0]["pointer"] == "/content"
    listed = http.get("/v1/documents?owner_subject=customer:9", headers=admin).json()
    assert [d["document_id"] for d in listed["documents"]] == [doc]
