"""The velocity and daily-volume limits hold on PostgreSQL with two API processes: the
ledger's writers take turns on the `ledger_head` row lock, and each decision is measured
again inside that turn."""

from __future__ import annotations

from pathlib import Path

from tests.contract.outbox_support import postgres_database
from tests.e2e.conftest import start_server
from tests.e2e.test_limits_race import UNLIMITED_RATE
from tests.support.race import assert_limits_held


def test_parallel_decisions_cannot_pass_the_limits_on_postgres(
    paygod_home: Path, postgres_url: str
) -> None:
    paygod_home.mkdir(parents=True, exist_ok=True)
    with postgres_database(postgres_url) as pg:
        server = start_server(
            paygod_home, {**UNLIMITED_RATE, "PAYGOD_DATABASE_URL": pg.url}, workers=2
        )
        try:
            assert_limits_held(server.url, server.headers, "postgres")
        finally:
            server.process.terminate()
            server.process.wait(10)
