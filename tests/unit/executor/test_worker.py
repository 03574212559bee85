"""The worker loop over the memory outbox: dispatch, retries with backoff, DLQ, panic."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from paygod.executor.backoff import Backoff
from paygod.executor.model import OutboxMessage
from paygod.executor.stores.outbox_memory import MemoryOutboxStore
from paygod.executor.stores.panic_memory import MemoryPanicSwitch
from paygod.executor.worker import Handler, PermanentFailure, RetryLater, Worker
from paygod.kernel.clock import ManualClock
from paygod.kernel.events import EventEnvelope

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def envelope(event_type: str, n: int) -> EventEnvelope:
    return EventEnvelope(
        event_type=event_type,
        aggregate_id=f"pay-{n}",
        aggregate_type="payment",
        tenant_id="default",
        payload={"n": n},
        occurred_at=T0,
        recorded_at=T0,
    )


@pytest.fixture(params=["threads", "loop"])
def mode(request: pytest.FixtureRequest) -> str:
    """Every round is driven both ways: handlers in threads, and coroutines side by side on
    the worker's event loop (as `paygod serve` runs them where every store is local)."""
    return str(request.param)


def register(worker: Worker, event_type: str, handler: Handler) -> None:
    """`handler` as the thread form and, wrapped, as the coroutine form of one handler."""

    async def on_loop(message: OutboxMessage) -> None:
        await asyncio.sleep(0)
        handler(message)

    worker.register(event_type, handler, on_loop=on_loop)


def setup(
    max_attempts: int = 3,
    mode: str = "threads",
) -> tuple[Worker, MemoryOutboxStore, MemoryPanicSwitch, ManualClock]:
    clock = ManualClock(T0)
    store = MemoryOutboxStore()
    panic = MemoryPanicSwitch(clock)
    worker = Worker(
        store,
        panic,
        clock,
        worker_id="w",
        backoff=Backoff(initial=1, maximum=30, jitter=0.5, max_attempts=max_attempts),
    )
    worker.on_loop = mode == "loop"
    return worker, store, panic, clock


def test_dispatches_by_event_type_and_acks(mode: str) -> None:
    worker, store, _, _ = setup(mode=mode)
    seen: list[tuple[str, int]] = []
    register(worker, "payment.dispatch", lambda m: seen.append((m.event_type, m.payload["n"])))
    store.add(envelope("payment.dispatch", 1), 0)
    store.add(envelope("decision.finalized", 2), 1)  # no handler: acknowledged
    report = worker.run_once()
    assert seen == [("payment.dispatch", 1)]
    assert report.done == 2
    assert store.counts() == {"pending": 0, "done": 2, "dead": 0}


def test_failures_back_off_then_land_in_the_dead_letter_queue(mode: str) -> None:
    worker, store, _, clock = setup(max_attempts=3, mode=mode)
    calls: list[int] = []

    def failing(message: OutboxMessage) -> None:
        calls.append(message.attempts)
        raise RuntimeError("rail said 500")

    register(worker, "payment.dispatch", failing)
    store.add(envelope("payment.dispatch", 1))
    assert worker.run_once().retried == 1
    assert worker.run_once().claimed == 0  # backing off, not busy-looping
    for _ in range(2):
        clock.advance(120)
        worker.run_once()
    assert calls == [1, 2, 3]
    [dead] = store.list("dead")
    assert dead.last_error == "RuntimeError: rail said 500"
    assert dead.attempts == 3


def test_permanent_failure_is_dead_lettered_at_once(mode: str) -> None:
    worker, store, _, _ = setup(mode=mode)

    def bad(message: OutboxMessage) -> None:
        raise PermanentFailure("unknown payment")

    register(worker, "payment.dispatch", bad)
    store.add(envelope("payment.dispatch", 1))
    assert worker.run_once().dead == 1
    assert "unknown payment" in (store.list("dead")[0].last_error or "")


def test_retry_later_waits_without_dead_lettering(mode: str) -> None:
    worker, store, _, clock = setup(max_attempts=1, mode=mode)
    attempts = {"n": 0}

    def not_yet(message: OutboxMessage) -> None:
        attempts["n"] += 1
        if attempts["n"] < 3:
            raise RetryLater("hold not placed yet", delay=1)

    register(worker, "payment.dispatch", not_yet)
    store.add(envelope("payment.dispatch", 1))
    for _ in range(3):
        worker.run_once()
        clock.advance(1)
    assert store.counts()["done"] == 1


def test_panic_on_claims_nothing_and_off_drains(mode: str) -> None:
    worker, store, panic, _ = setup(mode=mode)
    seen: list[int] = []
    register(worker, "payment.dispatch", lambda m: seen.append(m.payload["n"]))
    panic.turn_on("drill", "ops")
    for n in range(5):
        store.add(envelope("payment.dispatch", n), n)
    report = worker.run_once()
    assert report.frozen and report.claimed == 0 and seen == []
    panic.turn_off("ops")
    worker.drain()
    assert seen == [0, 1, 2, 3, 4]


def test_panic_mid_batch_hands_the_rest_back(mode: str) -> None:
    worker, store, panic, _ = setup(mode=mode)
    seen: list[int] = []

    def handler(message: OutboxMessage) -> None:
        seen.append(message.payload["n"])
        panic.turn_on("stop now", "ops")

    register(worker, "payment.dispatch", handler)
    for n in range(3):
        store.add(envelope("payment.dispatch", n), n)
    worker.run_once()
    assert seen == [0]
    assert store.counts()["pending"] == 2
    assert worker.run_once().claimed == 0


@given(st.integers(min_value=1, max_value=40))
def test_backoff_grows_exponentially_within_jitter_and_cap(attempt: int) -> None:
    backoff = Backoff(initial=0.5, maximum=60, jitter=0.5)
    base = min(60.0, 0.5 * 2 ** (attempt - 1))
    delay = backoff.delay(attempt)
    assert base <= delay <= base + 0.5


def test_background_thread_starts_and_stops() -> None:
    worker, store, _, _ = setup()
    seen: list[int] = []
    worker.register("payment.dispatch", lambda m: seen.append(1))
    worker.start()
    store.add(envelope("payment.dispatch", 1))
    worker.wake()
    deadline = datetime.now(UTC) + timedelta(seconds=5)
    while not seen and datetime.now(UTC) < deadline:
        worker.wake()
        import time

        time.sleep(0.01)
    worker.stop()
    assert seen == [1]


@pytest.mark.parametrize("bad", [0, -1])
def test_breaker_rejects_a_nonsense_threshold(bad: int) -> None:
    from paygod.executor.breaker import CircuitBreaker

    with pytest.raises(ValueError):
        CircuitBreaker("x", ManualClock(T0), failure_threshold=bad)


def test_concurrent_rounds_keep_each_aggregates_order() -> None:
    import threading

    clock = ManualClock(T0)
    store = MemoryOutboxStore()
    worker = Worker(store, MemoryPanicSwitch(clock), clock, worker_id="w", concurrency=4)
    seen: list[tuple[str, int]] = []
    lock = threading.Lock()

    def handler(message: OutboxMessage) -> None:
        with lock:
            seen.append((message.aggregate_id, message.payload["n"]))

    worker.register("payment.dispatch", handler)
    seq = 0
    for step in range(3):
        for agg in ("a", "b", "c"):
            env = EventEnvelope(
                event_type="payment.dispatch",
                aggregate_id=agg,
                aggregate_type="payment",
                tenant_id="default",
                payload={"n": step},
                occurred_at=T0,
                recorded_at=T0,
            )
            store.add(env, seq)
            seq += 1
    report = worker.run_once()
    worker.stop()
    assert report.done == 9
    for agg in ("a", "b", "c"):
        assert [n for a, n in seen if a == agg] == [0, 1, 2]


@pytest.mark.parametrize("concurrency", [1, 3])
def test_a_loop_round_keeps_at_most_concurrency_aggregates_in_flight(concurrency: int) -> None:
    clock = ManualClock(T0)
    store = MemoryOutboxStore()
    worker = Worker(store, MemoryPanicSwitch(clock), clock, worker_id="w", concurrency=concurrency)
    worker.on_loop = True
    in_flight = {"now": 0, "most": 0}

    async def slow(message: OutboxMessage) -> None:
        in_flight["now"] += 1
        in_flight["most"] = max(in_flight["most"], in_flight["now"])
        await asyncio.sleep(0.005)
        in_flight["now"] -= 1

    worker.register("payment.dispatch", lambda m: None, on_loop=slow)
    for n in range(8):
        store.add(envelope("payment.dispatch", n), n)
    report = worker.run_once()
    worker.stop()
    assert report.done == 8
    assert in_flight["most"] == concurrency


def test_a_loop_round_gives_a_handler_without_a_coroutine_form_a_thread() -> None:
    import threading

    worker, store, _, _ = setup(mode="loop")
    threads: list[str] = []
    worker.register("payment.dispatch", lambda m: None, on_loop=lambda m: asyncio.sleep(0))
    worker.register("payment.report", lambda m: threads.append(threading.current_thread().name))
    store.add(envelope("payment.dispatch", 1), 0)
    store.add(envelope("payment.report", 2), 1)
    assert worker.run_once().done == 2
    assert threads and threads[0] != threading.current_thread().name
