"""One contract for every panic switch adapter: memory, file flag, DB row, Redis (+ fallback)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from uuid import uuid4

import pytest

from paygod.executor.ports import PanicSwitch
from paygod.executor.stores.panic_db import DatabasePanicSwitch
from paygod.executor.stores.panic_file import FilePanicSwitch
from paygod.executor.stores.panic_memory import MemoryPanicSwitch
from paygod.executor.stores.panic_redis import RedisPanicSwitch
from paygod.kernel.clock import ManualClock
from tests.contract.outbox_support import postgres_database, sqlite_database

START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
DEAD_REDIS = "redis://127.0.0.1:1/0"  # nothing listens on port 1: Redis "down"


@pytest.fixture(
    params=["memory", "file", "sqlite-row", "postgres-row", "redis", "redis-down-sqlite-row"]
)
def switch(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[PanicSwitch]:
    clock = ManualClock(START)
    kind = request.param
    if kind == "memory":
        yield MemoryPanicSwitch(clock)
    elif kind == "file":
        yield FilePanicSwitch(tmp_path, clock)
    elif kind == "sqlite-row":
        yield DatabasePanicSwitch(sqlite_database(tmp_path), clock)
    elif kind == "postgres-row":
        with postgres_database(request.getfixturevalue("postgres_url")) as db:
            yield DatabasePanicSwitch(db, clock)
    elif kind == "redis":
        url = request.getfixturevalue("redis_url")
        fallback = DatabasePanicSwitch(sqlite_database(tmp_path), clock)
        redis_switch = RedisPanicSwitch.from_url(url, fallback, clock, key=f"test:{uuid4().hex}")
        yield redis_switch
        redis_switch.client.delete(redis_switch.key, redis_switch.tenants_key)
    else:
        fallback = DatabasePanicSwitch(sqlite_database(tmp_path), clock)
        yield RedisPanicSwitch.from_url(DEAD_REDIS, fallback, clock)


def test_off_until_turned_on(switch: PanicSwitch) -> None:
    state = switch.status()
    assert state.on is False


def test_on_records_reason_actor_and_since(switch: PanicSwitch) -> None:
    switch.turn_on("suspected fraud wave", "alice")
    state = switch.status()
    assert state.on is True
    assert state.reason == "suspected fraud wave"
    assert state.actor == "alice"
    assert state.since == START


def test_off_after_on(switch: PanicSwitch) -> None:
    switch.turn_on("drill", "alice")
    switch.turn_off("bob")
    state = switch.status()
    assert state.on is False
    assert state.actor == "bob"
    assert state.reason is None


def test_turning_on_twice_keeps_the_latest_reason(switch: PanicSwitch) -> None:
    switch.turn_on("first", "alice")
    switch.turn_on("second", "carol")
    assert switch.status().reason == "second"
    assert switch.status().actor == "carol"


# -- one switch per tenant, beside the platform's -------------------------------------


def test_a_tenant_switch_freezes_that_tenant_only(switch: PanicSwitch) -> None:
    state = switch.turn_on("acme fraud wave", "acme-ops", "acme")
    assert (state.on, state.tenant_id) == (True, "acme")
    acme = switch.status("acme")
    assert (acme.on, acme.reason, acme.actor, acme.tenant_id) == (
        True,
        "acme fraud wave",
        "acme-ops",
        "acme",
    )
    assert acme.since == START
    assert switch.status("globex").on is False
    assert switch.status("globex").reason is None  # nothing of acme's leaks into globex's
    assert switch.status().on is False  # the platform switch is another switch
    assert switch.frozen_tenants() == frozenset({"acme"})


def test_each_tenant_lifts_only_its_own_switch(switch: PanicSwitch) -> None:
    switch.turn_on("acme incident", "acme-ops", "acme")
    switch.turn_on("globex drill", "globex-ops", "globex")
    switch.turn_off("globex-ops", "globex")
    assert switch.status("acme").on is True
    assert switch.status("acme").reason == "acme incident"
    assert (switch.status("globex").on, switch.status("globex").actor) == (False, "globex-ops")
    assert switch.frozen_tenants() == frozenset({"acme"})


def test_the_platform_switch_is_not_a_tenant(switch: PanicSwitch) -> None:
    switch.turn_on("platform incident", "root", None)
    assert switch.status().tenant_id is None
    assert switch.frozen_tenants() == frozenset()
    assert switch.status("acme").on is False
    switch.turn_on("acme incident", "acme-ops", "acme")
    switch.turn_off("root")
    assert switch.status().on is False
    assert switch.status("acme").on is True  # lifting the platform's leaves the tenant's


@pytest.mark.parametrize("tenant", ["t.1", "..", "a%2Fb", "dépôt-Ω", "x" * 64, "global"])
def test_any_tenant_id_names_its_own_switch(switch: PanicSwitch, tenant: str) -> None:
    switch.turn_on(f"freeze {tenant}", "ops", tenant)
    assert switch.status(tenant).reason == f"freeze {tenant}"
    assert switch.status().on is False  # not even the tenant called "global"
    assert switch.frozen_tenants() == frozenset({tenant})
