"""D1: one panic switch per tenant, and a platform-wide one only platform admins see.

A tenant's operator freezes and lifts its own tenant's side effects; it cannot read or
move another tenant's switch (nor learn its reason or actor), nor the platform's. The
worker honours the platform switch and the switch of each message's own tenant.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from paygod.bootstrap import Kernel, build_kernel
from paygod.executor.model import OutboxMessage
from paygod.executor.panic import panic_subject
from paygod.executor.stores.outbox_memory import MemoryOutboxStore
from paygod.executor.stores.panic_memory import MemoryPanicSwitch
from paygod.executor.worker import Worker
from paygod.kernel.clock import ManualClock, isoformat
from tests.support.accounts import open_funded_payer
from tests.support.http import api_client, principal_headers
from tests.unit.payments.support import US_BANK

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def kernel(paygod_home: Path) -> Iterator[Kernel]:
    kernel = build_kernel()
    for tenant in ("acme", "globex"):
        kernel.identity.ensure_tenant(tenant)
        open_funded_payer(kernel.accounting, f"payer-{tenant}", 1_000_000, tenant=tenant)
    yield kernel
    kernel.close()


def as_role(kernel: Kernel, tenant: str, role: str) -> TestClient:
    return api_client(kernel, principal_headers(kernel, roles=[role], tenant_id=tenant))


def pay(client: TestClient, tenant: str, key: str) -> str:
    made = client.post(
        "/v1/payments",
        json={
            "payer_account": f"payer-{tenant}",
            "payee": US_BANK,
            "amount": 1_000,
            "currency": "USD",
            "purpose": "invoice",
            "metadata": {"counterparty_verified": True},
        },
        headers={"Idempotency-Key": key},
    )
    assert made.status_code == 201, made.text
    return str(made.json()["payment_id"])


def test_a_tenant_operator_moves_only_its_own_switch_and_reads_nothing_else(
    kernel: Kernel,
) -> None:
    acme, globex = as_role(kernel, "acme", "operator"), as_role(kernel, "globex", "operator")
    on = acme.post("/v1/admin/panic", json={"on": True, "reason": "acme fraud wave"})
    assert on.status_code == 200, on.text
    assert (on.json()["scope"], on.json()["tenant_id"], on.json()["on"]) == ("tenant", "acme", True)

    seen = globex.get("/v1/admin/panic")
    assert seen.json()["tenant_id"] == "globex" and seen.json()["on"] is False
    assert "acme" not in seen.text  # neither acme's reason nor its actor
    lifted = globex.post("/v1/admin/panic", json={"on": False})
    assert lifted.status_code == 200 and lifted.json()["tenant_id"] == "globex"
    assert kernel.panic.status("acme").on is True  # acme's freeze stands
    # Naming another tenant is the 404 of a tenant that does not exist, read or write.
    for call in (
        lambda: globex.get("/v1/admin/panic", headers={"X-Paygod-Tenant": "acme"}),
        lambda: globex.post(
            "/v1/admin/panic", json={"on": False}, headers={"X-Paygod-Tenant": "acme"}
        ),
    ):
        refused = call()
        assert refused.status_code == 404, refused.text
        assert "fraud" not in refused.text
    assert kernel.panic.status("acme").on is True


def test_only_a_platform_admin_reads_and_moves_the_platform_switch(kernel: Kernel) -> None:
    platform = api_client(kernel)
    acme = as_role(kernel, "acme", "operator")
    on = platform.post("/v1/admin/panic", json={"on": True, "reason": "rail outage at root"})
    assert on.json()["scope"] == "platform" and on.json()["on"] is True
    seen = acme.get("/v1/admin/panic").json()
    assert seen["platform"]["on"] is True and seen["frozen"] is True
    assert "rail outage" not in str(seen) and seen["on"] is False
    acme.post("/v1/admin/panic", json={"on": False})
    assert kernel.panic.status().on is True  # the tenant lifted its own switch only
    # A platform admin names a tenant's switch with X-Paygod-Tenant, and sees the list.
    acme.post("/v1/admin/panic", json={"on": True, "reason": "acme drill"})
    listed = platform.get("/v1/admin/panic").json()
    assert listed["frozen_tenants"] == ["acme"]
    named = platform.get("/v1/admin/panic", headers={"X-Paygod-Tenant": "acme"}).json()
    assert named["reason"] == "acme drill"
    unknown = platform.get("/v1/admin/panic", headers={"X-Paygod-Tenant": "nobody"})
    assert unknown.status_code == 404
    bad = platform.get("/v1/admin/panic", headers={"X-Paygod-Tenant": "a/b"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["pointer"].endswith("x-paygod-tenant")


def test_changes_are_sealed_in_the_tenant_own_part_of_the_ledger(kernel: Kernel) -> None:
    as_role(kernel, "acme", "operator").post(
        "/v1/admin/panic", json={"on": True, "reason": "acme secret incident"}
    )
    api_client(kernel).post("/v1/admin/panic", json={"on": True, "reason": "platform secret"})
    (acme_entry,) = kernel.ledger.history(panic_subject("acme"))
    assert acme_entry.tenant_id == "acme" and acme_entry.payload["reason"] == "acme secret incident"
    (platform_entry,) = kernel.ledger.history(panic_subject(None))
    assert platform_entry.tenant_id == "*"
    globex_auditor = as_role(kernel, "globex", "auditor")
    read = globex_auditor.get("/v1/ledger/entries", params={"limit": 1000})
    assert read.status_code == 200, read.text
    assert "secret" not in read.text
    acme_auditor = as_role(kernel, "acme", "auditor")
    own = acme_auditor.get("/v1/ledger/entries", params={"limit": 1000})
    assert "acme secret incident" in own.text and "platform secret" not in own.text


def test_workers_hold_the_frozen_tenant_payments_and_pay_the_others(kernel: Kernel) -> None:
    acme_admin, globex_admin = as_role(kernel, "acme", "admin"), as_role(kernel, "globex", "admin")
    as_role(kernel, "acme", "operator").post(
        "/v1/admin/panic", json={"on": True, "reason": "acme incident"}
    )
    frozen = [pay(acme_admin, "acme", f"a{i}") for i in range(3)]
    flowing = [pay(globex_admin, "globex", f"g{i}") for i in range(3)]
    kernel.executor.drain()
    assert {kernel.payments.get(p).status.value for p in frozen} == {"held"}
    assert {kernel.payments.get(p).status.value for p in flowing} == {"settled"}
    # Not claimed while frozen: no attempt was spent on them.
    pending = kernel.executor.store.list("pending")
    assert pending and {m.tenant_id for m in pending} == {"acme"}
    assert {m.attempts for m in pending} == {0}
    as_role(kernel, "acme", "operator").post("/v1/admin/panic", json={"on": False})
    kernel.executor.drain()
    assert {kernel.payments.get(p).status.value for p in frozen} == {"settled"}


def test_a_tenant_frozen_mid_batch_gets_the_rest_of_its_messages_back() -> None:
    clock = ManualClock(T0)
    switch = MemoryPanicSwitch(clock)
    store = MemoryOutboxStore()
    for n, tenant in enumerate(["acme", "acme", "globex"]):
        store.source.append(
            {
                "event_id": f"e{n}",
                "entry_seq": n,
                "event_type": "work",
                "tenant_id": tenant,
                "aggregate_id": f"agg-{tenant}",
                "envelope": {"event_id": f"e{n}", "payload": {}},
                "available_at": isoformat(T0),
                "created_at": isoformat(T0),
            }
        )
    done: list[str] = []

    def handle(message: OutboxMessage) -> None:
        done.append(message.event_id)
        if message.event_id == "e0":
            switch.turn_on("acme froze during the batch", "acme-ops", "acme")

    worker = Worker(store, switch, clock, {"work": handle})
    worker.run_once()
    assert sorted(done) == ["e0", "e2"]  # acme's second message was handed back
    assert store.get("e1") is not None and store.get("e1").status == "pending"  # type: ignore[union-attr]
