"""The velocity and daily-volume limits hold when the requests arrive all at once, on two
API processes sharing one SQLite file (`serve --workers 2`): each decision is measured
again inside the ledger's serialised write, so it sees every decision committed before it."""

from __future__ import annotations

from pathlib import Path

from tests.e2e.conftest import start_server
from tests.support.race import assert_limits_held

UNLIMITED_RATE = {
    "PAYGOD_RATE_PRINCIPAL_PER_SECOND": "100000",
    "PAYGOD_RATE_PRINCIPAL_BURST": "100000",
}


def test_parallel_decisions_cannot_pass_the_limits_on_two_processes(paygod_home: Path) -> None:
    paygod_home.mkdir(parents=True, exist_ok=True)
    server = start_server(paygod_home, UNLIMITED_RATE, workers=2)
    try:
        assert_limits_held(server.url, server.headers, "sqlite")
    finally:
        server.process.terminate()
        server.process.wait(10)
