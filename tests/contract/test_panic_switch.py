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
        redis_switch.client.delete(redis_switch.key)
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
