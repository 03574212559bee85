"""The relay's rules with the real memory cursor store and a scripted broker."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import orjson

from paygod.events.model import PublishReport, RelayEvent
from paygod.events.relay import Relay
from paygod.events.stores.cursor_memory import MemoryRelayCursorStore
from paygod.kernel.clock import ManualClock

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


class ScriptedBroker:
    """Stores by message id like JetStream (a repeat is a duplicate); can fail mid-batch."""

    def __init__(self) -> None:
        self.stored: list[str] = []
        self.fail_at: int | None = None  # the index in the next batch that is not acknowledged

    async def publish(self, events: Sequence[RelayEvent]) -> PublishReport:
        report = PublishReport()
        for index, event in enumerate(events):
            if self.fail_at is not None and index == self.fail_at:
                report.error = "TimeoutError: no ack"
                self.fail_at = None
                break
            if event.event_id in self.stored:
                report.duplicates += 1
            else:
                self.stored.append(event.event_id)
            report.acked += 1
        return report

    async def close(self) -> None:
        return None


def outbox(n: int, event_type: str = "payment.settled") -> list[dict[str, Any]]:
    return [
        {
            "event_id": f"e{i:03d}",
            "entry_seq": i,
            "event_type": event_type,
            "tenant_id": "acme",
            "envelope": {"event_id": f"e{i:03d}", "n": i},
        }
        for i in range(n)
    ]


def relay(
    rows: list[dict[str, Any]], broker: ScriptedBroker, clock: ManualClock, **kw: Any
) -> Relay:
    return Relay(MemoryRelayCursorStore(rows), broker, clock, batch=4, **kw)


def test_publishes_everything_in_ledger_order_once() -> None:
    rows = outbox(10)
    broker = ScriptedBroker()
    runner = relay(rows, broker, ManualClock(T0), holder="r1")
    rounds = [asyncio.run(runner.run_once()) for _ in range(4)]
    assert [r.published for r in rounds] == [4, 4, 2, 0]
    assert broker.stored == [f"e{i:03d}" for i in range(10)]
    cursor = runner.cursors.get("default")
    assert cursor is not None and cursor.position == (9, "e009") and cursor.published == 10


def test_a_failed_ack_moves_the_cursor_only_past_the_acknowledged_prefix() -> None:
    rows = outbox(4)
    broker = ScriptedBroker()
    broker.fail_at = 2
    runner = relay(rows, broker, ManualClock(T0), holder="r1")
    first = asyncio.run(runner.run_once())
    assert first.published == 2 and first.error == "TimeoutError: no ack"
    assert runner.cursors.get("default").position == (1, "e001")  # type: ignore[union-attr]
    second = asyncio.run(runner.run_once())
    assert second.published == 2 and second.error is None
    assert broker.stored == ["e000", "e001", "e002", "e003"]


def test_a_crash_before_the_cursor_update_republishes_as_duplicates_only() -> None:
    rows = outbox(3)
    broker = ScriptedBroker()
    clock = ManualClock(T0)
    crashed = relay(rows, broker, clock, holder="r1", lease_seconds=5)
    # The first relay published but died before recording it: simulate by publishing directly.
    asyncio.run(broker.publish(crashed.cursors.pending((-1, ""), limit=10)))
    clock.advance(1)
    assert crashed.cursors.acquire("default", "r1", now=clock.now(), lease_seconds=5)
    clock.advance(10)  # r1's lease lapses
    successor = Relay(crashed.cursors, broker, clock, holder="r2", batch=10)
    round_ = asyncio.run(successor.run_once())
    assert round_.leader and round_.published == 3 and round_.duplicates == 3
    assert broker.stored == ["e000", "e001", "e002"]


def test_a_standby_publishes_nothing_while_the_leader_holds_the_lease() -> None:
    rows = outbox(2)
    broker = ScriptedBroker()
    clock = ManualClock(T0)
    store = MemoryRelayCursorStore(rows)
    leader = Relay(store, broker, clock, holder="r1", lease_seconds=10)
    standby = Relay(store, broker, clock, holder="r2", lease_seconds=10)
    assert asyncio.run(leader.run_once()).published == 2
    rows.extend(outbox(4)[2:])
    idle = asyncio.run(standby.run_once())
    assert not idle.leader and idle.published == 0
    assert asyncio.run(leader.run_once()).published == 2


def test_events_with_an_invalid_type_are_skipped_not_allowed_to_stall_the_relay() -> None:
    rows = outbox(3)
    rows[1]["event_type"] = "DecisionFinalized"
    broker = ScriptedBroker()
    runner = relay(rows, broker, ManualClock(T0), holder="r1")
    round_ = asyncio.run(runner.run_once())
    assert round_.skipped == 1 and round_.published == 2
    assert broker.stored == ["e000", "e002"]
    assert runner.cursors.lag(runner.cursors.get("default").position) == 0  # type: ignore[union-attr]


def test_run_stops_on_request_and_releases_the_lease() -> None:
    rows = outbox(5)
    broker = ScriptedBroker()
    runner = relay(rows, broker, ManualClock(T0), holder="r1", idle_seconds=0.01)

    async def scenario() -> None:
        stop = asyncio.Event()
        task = asyncio.create_task(runner.run(stop))
        for _ in range(200):
            if len(broker.stored) == 5:
                break
            await asyncio.sleep(0.01)
        stop.set()
        await asyncio.wait_for(task, 2)

    asyncio.run(scenario())
    assert broker.stored == [f"e{i:03d}" for i in range(5)]
    cursor = runner.cursors.get("default")
    assert cursor is not None and cursor.holder is None
    assert orjson.loads(runner.cursors.pending((-1, ""), limit=1)[0].body)["n"] == 0


class CountingCursors(MemoryRelayCursorStore):
    acquired = 0

    def acquire(self, *args: Any, **kwargs: Any) -> Any:
        self.acquired += 1
        return super().acquire(*args, **kwargs)


def test_an_idle_leader_renews_its_lease_at_half_time_not_every_round() -> None:
    clock = ManualClock(T0)
    store = CountingCursors(outbox(0))
    broker = ScriptedBroker()
    leader = Relay(store, broker, clock, holder="r1", lease_seconds=10)
    for _ in range(20):  # 20 idle polls within the first half of the lease
        assert asyncio.run(leader.run_once()).leader
        clock.advance(0.2)
    assert store.acquired == 1
    clock.advance(2)  # past half-time: renewed, and a standby still cannot take over
    assert asyncio.run(leader.run_once()).leader
    assert store.acquired == 2
    clock.advance(6)
    standby = Relay(store, broker, clock, holder="r2", lease_seconds=10)
    assert not asyncio.run(standby.run_once()).leader
