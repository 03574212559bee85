"""The panic switch as an operator uses it: `paygod panic on` in a shell freezes a running
server's executor (zero rail calls) while payments keep being decided and sealed; `paygod
panic off` releases them and the queue drains. The simulated rail keeps its call counts in
a file, so the test can read them across processes."""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path

from paygod.bootstrap import build_kernel
from tests.e2e.conftest import run_cli, start_server
from tests.support.accounts import open_funded_payer

PAYEE = {"name": "Vendor", "account_number": "000123456789", "routing_number": "021000021"}


def seed(home: Path, rail_db: Path) -> None:
    home.mkdir(parents=True, exist_ok=True)
    (home / "rails.yaml").write_text(
        f"connectors:\n  ach: {{type: simulated, state_path: '{rail_db}'}}\n"
    )
    kernel = build_kernel()
    try:
        open_funded_payer(kernel.accounting, amount=10_000_000)
    finally:
        kernel.close()


def rail_calls(rail_db: Path) -> int:
    if not rail_db.exists():
        return 0
    with sqlite3.connect(rail_db) as conn:
        try:
            return int(conn.execute("SELECT COALESCE(SUM(calls), 0) FROM rail_calls").fetchone()[0])
        except sqlite3.OperationalError:
            return 0


def test_panic_freezes_side_effects_and_release_drains(paygod_home: Path, tmp_path: Path) -> None:
    rail_db = tmp_path / "ach-rail.db"
    seed(paygod_home, rail_db)
    on = run_cli("panic", "on", "--reason", "suspected fraud wave", "--actor", "ops", "--json")
    assert on.code == 0, on.stderr
    assert json.loads(on.stdout)["on"] is True
    server = start_server(paygod_home)
    try:
        with server.client() as client:
            ids = []
            for i in range(4):
                r = client.post(
                    "/v1/payments",
                    json={
                        "payer_account": "agent-1",
                        "payee": PAYEE,
                        "amount": 2_000 + i,
                        "currency": "USD",
                        "purpose": f"invoice {i}",
                        "metadata": {"counterparty_verified": True},
                    },
                    headers={"Idempotency-Key": f"panic-{i}"},
                )
                assert r.status_code == 201, r.text
                assert r.json()["decision"]["verdict"] == "allow"  # decisions continue
                ids.append(r.json()["payment_id"])
            status = client.get("/v1/admin/panic").json()
            assert status["on"] is True and status["reason"] == "suspected fraud wave"
            time.sleep(0.5)  # the server's worker polls every 50 ms: give it many chances
            assert rail_calls(rail_db) == 0
            assert {client.get(f"/v1/payments/{p}").json()["status"] for p in ids} == {"held"}

            off = run_cli("panic", "off", "--actor", "ops")
            assert off.code == 0, off.stderr
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:
                states = {client.get(f"/v1/payments/{p}").json()["status"] for p in ids}
                if states == {"settled"}:
                    break
                time.sleep(0.05)
            assert states == {"settled"}
            assert rail_calls(rail_db) == len(ids)
    finally:
        server.process.terminate()
        server.process.wait(10)
    status = run_cli("panic", "status", "--json")
    assert json.loads(status.stdout)["on"] is False


def test_executor_cli_status_and_empty_dlq(paygod_home: Path) -> None:
    paygod_home.mkdir(parents=True, exist_ok=True)
    listed = run_cli("executor", "dlq", "list", "--json")
    assert listed.code == 0, listed.stderr
    assert json.loads(listed.stdout) == {"dead": []}
    missing = run_cli("executor", "dlq", "retry", "no-such-event")
    assert missing.code == 2
    assert "not in the dead-letter queue" in missing.stderr
    status = run_cli("executor", "status", "--json")
    assert json.loads(status.stdout)["outbox"]["dead"] == 0
    refused = run_cli("panic", "on", "--reason", "  ")
    assert refused.code == 2
