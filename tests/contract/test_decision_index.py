"""The decision index's per-minute counts (the console overview) agree on every adapter:
memory, SQLite, PostgreSQL; by tenant and for the platform, across minute boundaries."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from paygod.decisions.ports import IndexRow
from paygod.decisions.stores.memory import MemoryDecisionIndex
from paygod.decisions.stores.sql import SqlDecisionIndex
from paygod.kernel.clock import isoformat
from paygod.kernel.database import Database
from tests.contract.outbox_support import postgres_database, sqlite_database
from tests.contract.test_risk_stores import transaction

START = datetime(2026, 12, 7, 15, 29, 40, 123456, tzinfo=UTC)


@pytest.fixture(params=["memory", "sqlite", "postgres"])
def index(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Any, Database | None]]:
    if request.param == "memory":
        yield MemoryDecisionIndex(), None
    elif request.param == "sqlite":
        db = sqlite_database(tmp_path)
        yield SqlDecisionIndex(db), db
        db.close()
    else:
        with postgres_database(request.getfixturevalue("postgres_url")) as pg:
            yield SqlDecisionIndex(pg), pg


def test_per_minute_counts_match_the_rows(index: tuple[Any, Database | None]) -> None:
    store, db = index
    rows = []
    for i in range(120):  # every 17 s for 34 minutes: minute edges, two tenants, 3 verdicts
        at = START + timedelta(seconds=17 * i)
        tenant = "acme" if i % 4 else "globex"
        verdict = ("allow", "deny", "flag")[i % 3]
        rows.append((tenant, verdict, isoformat(at)))
        with transaction(db) as conn:
            store.record(conn, IndexRow(f"d{i}", tenant, None, "h", "s", verdict, 1, isoformat(at)))
    since = isoformat(START + timedelta(minutes=3, seconds=5))
    for tenant in ("acme", "globex", None):
        expected = Counter(
            (at[:16], verdict)
            for t, verdict, at in rows
            if at >= since and (tenant is None or t == tenant)
        )
        found = {(m, v): c for m, v, c in store.per_minute(tenant, since)}
        assert found == dict(expected), tenant
    later = isoformat(START + timedelta(hours=2))
    assert store.per_minute("acme", later) == []
