"""The decision service over every ledger store with its matching decision index."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from paygod.decisions.packs import PackRepository
from paygod.decisions.ports import DuplicateKey, IndexRow
from paygod.decisions.service import DecisionService
from paygod.decisions.stores.memory import MemoryDecisionIndex
from paygod.decisions.stores.sql import SqlDecisionIndex
from paygod.kernel.clock import ManualClock
from paygod.kernel.errors import Conflict
from paygod.ledger.service import LedgerService

T0 = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


@pytest.fixture(params=["memory", "sqlite", "postgres"])
def service(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[DecisionService]:
    clock = ManualClock(T0)
    packs = PackRepository(tmp_path / "absent")
    if request.param == "memory":
        from paygod.ledger.stores.memory import MemoryLedgerStore

        ledger = LedgerService(MemoryLedgerStore(), clock)
        yield DecisionService(ledger, packs, clock, MemoryDecisionIndex())
        ledger.close()
        return
    if request.param == "sqlite":
        from paygod.kernel.database import SqliteDatabase, migrate
        from paygod.ledger.stores.sqlite import SqliteLedgerStore

        db = SqliteDatabase(tmp_path / "paygod.db")
        migrate(db)
        ledger = LedgerService(SqliteLedgerStore(db), clock)
        yield DecisionService(ledger, packs, clock, SqlDecisionIndex(db))
        ledger.close()
        db.close()
        return
    import psycopg

    from paygod.kernel.database import PostgresDatabase, migrate
    from paygod.ledger.stores.postgres import PostgresLedgerStore

    url = request.getfixturevalue("postgres_url")
    schema = f"t_{uuid.uuid4().hex}"
    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute(f"CREATE SCHEMA {schema}")
    sep = "&" if "?" in url else "?"
    pg = PostgresDatabase(f"{url}{sep}options=-csearch_path%3D{schema}")
    try:
        migrate(pg)
        ledger = LedgerService(PostgresLedgerStore(pg), clock)
        yield DecisionService(ledger, packs, clock, SqlDecisionIndex(pg))
        ledger.close()
    finally:
        pg.close()
        with psycopg.connect(url, autocommit=True) as admin:
            admin.execute(f"DROP SCHEMA {schema} CASCADE")


def request_body(amount: int) -> dict[str, Any]:
    return {
        "subject": "urn:paygod:agent:contract",
        "context": {},
        "input": {
            "payment": {
                "amount_minor": amount,
                "currency": "EUR",
                "rail": "sepa",
                "counterparty": {"ref": "urn:paygod:cp:1", "verified": True},
            }
        },
    }


def test_decide_repeat_conflict_and_window(service: DecisionService) -> None:
    first = service.decide(**request_body(1000), idempotency_key="c1")
    assert first["decision"] == "allow"
    again = service.decide(**request_body(1000), idempotency_key="c1")
    assert (again["decision_id"], again["replayed"]) == (first["decision_id"], True)
    with pytest.raises(Conflict):
        service.decide(**request_body(2000), idempotency_key="c1")
    service.decide(**request_body(2500), idempotency_key="c2")
    count, total = service.index.window(
        "default", "urn:paygod:agent:contract", "2026-05-01T00:00:00", "2026-05-02T00:00:00"
    )
    assert (count, total) == (2, 3500)
    third = service.decide(**request_body(10), idempotency_key="c3")
    measures = {m["name"]: m["value"] for m in third["measurements"]}
    assert (measures["velocity_1h"], measures["amount_24h"]) == (2, 3500)
    assert service.get(first["decision_id"])["ledger"]["seq"] == first["ledger"]["seq"]
    assert service.replay(third["ledger"]["seq"])["identical"] is True


def test_duplicate_key_inside_the_transaction_writes_nothing(service: DecisionService) -> None:
    service.decide(**request_body(1000), idempotency_key="dup")
    size = service.ledger.size
    row = IndexRow("other-id", "default", "dup", "h", "s", "allow", 1, "2026-05-01T12:00:00Z")

    def work(conn: Any) -> tuple[None, list[Any]]:
        service.index.record(conn, row)
        return None, []

    with pytest.raises(DuplicateKey):
        service.ledger.transact(work)
    assert service.ledger.size == size
    assert service.index.by_id("other-id") is None


def test_scope_own_reads_and_replays_only_the_requesters_decisions(
    service: DecisionService,
) -> None:
    from paygod.kernel.errors import NotFound

    mine = service.decide(**request_body(1000), idempotency_key="k1", requested_by="agent-1")
    decision_id = mine["decision_id"]
    assert service.index.by_id(decision_id).requested_by == "agent-1"  # type: ignore[union-attr]
    assert service.get(decision_id, owner="agent-1")["decision_id"] == decision_id
    assert service.get(decision_id)["decision_id"] == decision_id  # scope `all`
    with pytest.raises(NotFound) as missing:
        service.get("no-such-decision", owner="agent-2")
    with pytest.raises(NotFound) as others:
        service.get(decision_id, owner="agent-2")
    assert others.value.detail == missing.value.detail.replace("no-such-decision", decision_id)
    size = service.ledger.size
    # Another agent reusing the key (same body) gets neither the decision nor its id.
    with pytest.raises(Conflict) as taken:
        service.decide(
            **request_body(1000), idempotency_key="k1", requested_by="agent-2", owner="agent-2"
        )
    assert decision_id not in str(taken.value.detail) and not taken.value.extra
    assert service.ledger.size == size
    again = service.decide(
        **request_body(1000), idempotency_key="k1", requested_by="agent-1", owner="agent-1"
    )
    assert (again["decision_id"], again["replayed"]) == (decision_id, True)


def test_a_negative_amount_does_not_lower_the_window_volume(service: DecisionService) -> None:
    # A pack need not refuse a negative amount; a decision it allowed with one must not
    # make room under the subject's 1h/24h limit for the next payment.
    service.decide(**request_body(2500), idempotency_key="v1")
    row = IndexRow(
        "negative-id",
        "default",
        "v2",
        "h",
        "urn:paygod:agent:contract",
        "allow",
        -100_000,
        "2026-05-01T12:00:00.000000Z",
    )

    def work(conn: Any) -> tuple[None, list[Any]]:
        service.index.record(conn, row)
        return None, []

    service.ledger.transact(work)
    count, total = service.index.window(
        "default", "urn:paygod:agent:contract", "2026-05-01T00:00:00", "2026-05-02T00:00:00"
    )
    assert (count, total) == (2, 2500)
