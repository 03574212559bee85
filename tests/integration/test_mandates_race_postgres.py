"""A 100.00 mandate holds on PostgreSQL with two API processes: 64 payments at once under
it, and no more than 100.00 is ever held."""

from __future__ import annotations

from pathlib import Path

from tests.contract.outbox_support import postgres_database
from tests.e2e.conftest import start_server
from tests.e2e.test_limits_race import UNLIMITED_RATE
from tests.support.mandate_race import assert_mandate_held


def test_64_payments_at_once_never_exceed_the_mandate_on_postgres(
    paygod_home: Path, postgres_url: str
) -> None:
    paygod_home.mkdir(parents=True, exist_ok=True)
    with postgres_database(postgres_url) as pg:
        server = start_server(
            paygod_home, {**UNLIMITED_RATE, "PAYGOD_DATABASE_URL": pg.url}, workers=2
        )
        try:
            assert_mandate_held(server.url, server.headers, "postgres")
        finally:
            server.process.terminate()
            server.process.wait(10)
