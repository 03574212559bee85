"""Redis down → the DB row answers; back up → Redis learns what changed meanwhile."""

from __future__ import annotations

from pathlib import Path
from uuid import uuid4

import pytest

from paygod.executor.stores.panic_db import DatabasePanicSwitch
from paygod.executor.stores.panic_file import FilePanicSwitch
from paygod.executor.stores.panic_redis import RedisPanicSwitch
from tests.contract.outbox_support import sqlite_database


def test_redis_down_reads_and_writes_the_db_row(tmp_path: Path) -> None:
    row = DatabasePanicSwitch(sqlite_database(tmp_path))
    switch = RedisPanicSwitch.from_url("redis://127.0.0.1:1/0", row)
    switch.turn_on("redis is down but we must freeze", "ops")
    assert switch.degraded is True
    assert row.status().on is True
    assert switch.status().reason == "redis is down but we must freeze"


def test_change_made_during_outage_is_copied_to_redis(tmp_path: Path, redis_url: str) -> None:
    row = DatabasePanicSwitch(sqlite_database(tmp_path))
    key = f"test:{uuid4().hex}"
    down = RedisPanicSwitch.from_url("redis://127.0.0.1:1/0", row, key=key)
    down.turn_on("during outage", "ops")
    up = RedisPanicSwitch.from_url(redis_url, row, key=key)
    up.degraded = True  # the same process, now that Redis answers again
    try:
        assert up.status().on is True
        assert up.client.get(key) is not None
        fresh = RedisPanicSwitch.from_url(redis_url, row, key=key)
        assert fresh.status().reason == "during outage"
    finally:
        up.client.delete(key)


def test_file_flag_is_written_atomically_and_unreadable_means_on(tmp_path: Path) -> None:
    switch = FilePanicSwitch(tmp_path)
    switch.turn_on("x", "ops")
    assert not list(tmp_path.glob(".panic-*"))  # no temporary file left behind
    switch.path.write_bytes(b"{not json")
    state = switch.status()
    assert state.on is True
    assert "unreadable" in (state.reason or "")


@pytest.mark.parametrize("reason", ["", "   "])
def test_service_requires_a_reason(reason: str) -> None:
    from paygod.executor import PanicService
    from paygod.executor.stores.panic_memory import MemoryPanicSwitch
    from paygod.kernel.errors import InvalidInput

    with pytest.raises(InvalidInput):
        PanicService(MemoryPanicSwitch()).turn_on(reason, "ops")
