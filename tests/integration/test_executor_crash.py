"""kill -9 a worker process mid-dispatch, restart it: every payment ends settled or in the
dead-letter queue, and the simulated rail (whose call counts live in a file, so they
survive the kill) saw no payment twice."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from paygod.bootstrap import build_kernel
from paygod.payments.model import PaymentStatus
from tests.e2e.conftest import run_cli
from tests.support.accounts import open_funded_payer

PAYEE = {"name": "Vendor", "account_number": "000123456789", "routing_number": "021000021"}
COUNT = 6


def seed(home: Path, rail_db: Path, latency: float) -> list[str]:
    home.mkdir(parents=True, exist_ok=True)
    (home / "rails.yaml").write_text(
        f"connectors:\n  ach: {{type: simulated, latency: {latency}, state_path: '{rail_db}'}}\n"
    )
    kernel = build_kernel()
    try:
        open_funded_payer(kernel.accounting, amount=10_000_000)
        ids = []
        for i in range(COUNT):
            payment, _ = kernel.payments.create(
                {
                    "payer_account": "agent-1",
                    "payee": PAYEE,
                    "amount": 1_000 + i,
                    "currency": "USD",
                    "purpose": f"invoice {i}",
                    "metadata": {"counterparty_verified": True},
                },
                tenant_id="default",
                requested_by="agent-bot",
                idempotency_key=f"crash-{i}",
            )
            assert payment.status is PaymentStatus.HELD, payment
            ids.append(payment.payment_id)
        return ids
    finally:
        kernel.close()


def rail_calls(rail_db: Path) -> dict[str, int]:
    if not rail_db.exists():
        return {}
    with sqlite3.connect(rail_db) as conn:
        try:
            return dict(conn.execute("SELECT idempotency_key, calls FROM rail_calls").fetchall())
        except sqlite3.OperationalError:
            return {}


@pytest.mark.slow
def test_kill_9_mid_dispatch_then_restart(paygod_home: Path, tmp_path: Path) -> None:
    rail_db = tmp_path / "ach-rail.db"
    ids = seed(paygod_home, rail_db, latency=0.8)
    env = {**os.environ, "PAYGOD_HOME": str(paygod_home), "PAYGOD_LOG_LEVEL": "error"}
    worker = subprocess.Popen(
        # One payment at a time, so the kill lands between payments already sent and not yet.
        [
            sys.executable,
            "-m",
            "paygod",
            "worker",
            "--lease",
            "1.5",
            "--idle",
            "0.01",
            "--concurrency",
            "1",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while len(rail_calls(rail_db)) < 3 and time.monotonic() < deadline:
            assert worker.poll() is None, "worker exited early"
            time.sleep(0.02)
        # The rail records a payment before its latency: a kill now lands mid-dispatch.
        worker.send_signal(signal.SIGKILL)
        worker.wait(10)
    finally:
        if worker.poll() is None:
            worker.kill()
    before = rail_calls(rail_db)
    assert 3 <= len(before) < COUNT, before
    time.sleep(1.6)  # the dead worker's lease runs out
    restarted = run_cli("worker", "--once", "--lease", "5", env={"PAYGOD_LOG_LEVEL": "error"})
    assert restarted.code == 0, restarted.stderr

    calls = rail_calls(rail_db)
    kernel = build_kernel()
    try:
        dead = {m.aggregate_id for m in kernel.executor.store.list("dead")}
        for payment_id in ids:
            status = kernel.payments.get(payment_id).status
            assert status is PaymentStatus.SETTLED or payment_id in dead, (payment_id, status)
            assert calls.get(payment_id, 0) <= 1, f"{payment_id} dispatched {calls[payment_id]}x"
            if status is PaymentStatus.SETTLED:
                assert calls.get(payment_id) == 1
        # The interrupted payment was recovered by asking the rail, not by sending again.
        recovered = [
            pid
            for pid in ids
            if any(h["evidence"].get("via") == "rail lookup" for h in kernel.payments.history(pid))
        ]
        assert recovered
        assert kernel.ledger.verify().findings == ()
    finally:
        kernel.close()
