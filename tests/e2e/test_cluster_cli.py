"""`paygod cluster` on PostgreSQL with a relay: ready, serving, relaying, clean stop."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.contract.outbox_support import postgres_database
from tests.e2e.conftest import free_port, run_cli
from tests.support.requests import decision_body

pytestmark = pytest.mark.xdist_group("nats")


def test_cluster_starts_serves_relays_and_stops_cleanly(
    paygod_home: Path, postgres_url: str, nats_url: str, nats_namespace: str, tmp_path: Path
) -> None:
    with postgres_database(postgres_url) as pg:
        port = free_port()
        env = {
            **os.environ,
            "PAYGOD_DATABASE_URL": pg.url,
            "PAYGOD_DEV_MODE": "true",
            "PAYGOD_NATS_URL": nats_url,
            "PAYGOD_NATS_NAMESPACE": nats_namespace,
            "PAYGOD_PORT": str(port),
        }
        log_path = tmp_path / "cluster.log"
        with log_path.open("wb") as log:
            proc = subprocess.Popen(
                [sys.executable, "-m", "paygod", "cluster", "--api", "2", "--workers", "1",
                 "--relay"],
                env=env, stdout=log, stderr=subprocess.STDOUT,
            )  # fmt: skip
            try:
                deadline = time.monotonic() + 90
                while "cluster ready" not in log_path.read_text(errors="replace"):
                    assert proc.poll() is None, log_path.read_text(errors="replace")
                    assert time.monotonic() < deadline, "cluster not ready in 90 s"
                    time.sleep(0.2)
                key = (paygod_home / "dev-api-key").read_text().strip()
                headers = {"Authorization": f"Bearer {key}"}
                with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=headers) as http:
                    for i in range(4):
                        made = http.post(
                            "/v1/decisions",
                            json=decision_body(),
                            headers={"Idempotency-Key": f"k{i}"},
                        )
                        assert made.status_code == 201, made.text
                relay_env = {k: v for k, v in env.items() if k.startswith("PAYGOD_")}
                deadline = time.monotonic() + 30
                while True:
                    status = json.loads(run_cli("events", "status", "--json", env=relay_env).stdout)
                    if status["published"] == 4:
                        break
                    assert time.monotonic() < deadline, status
                    time.sleep(0.5)
                assert status["pending"] == 0 and status["holder"]
            finally:
                proc.send_signal(signal.SIGTERM)
                code = proc.wait(60)
        output = log_path.read_text(errors="replace")
        assert code == 0, output
        assert "cluster stopped: api exit 0, worker-1 exit 0, relay exit 0" in output
