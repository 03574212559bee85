from __future__ import annotations

from datetime import UTC, datetime

from paygod.executor.breaker import BreakerBoard, CircuitBreaker, CircuitState
from paygod.kernel.clock import ManualClock


def make(k: int = 3, cool_down: float = 10) -> tuple[CircuitBreaker, ManualClock]:
    clock = ManualClock(datetime(2026, 1, 1, tzinfo=UTC))
    return CircuitBreaker("ach", clock, failure_threshold=k, cool_down=cool_down), clock


def test_opens_after_k_consecutive_failures() -> None:
    breaker, _ = make(k=3)
    for _ in range(2):
        breaker.record_failure()
    assert breaker.state is CircuitState.CLOSED and breaker.allow()
    breaker.record_failure()
    assert breaker.state is CircuitState.OPEN
    assert breaker.allow() is False


def test_a_success_resets_the_consecutive_count() -> None:
    breaker, _ = make(k=2)
    breaker.record_failure()
    breaker.record_success()
    breaker.record_failure()
    assert breaker.state is CircuitState.CLOSED


def test_half_open_lets_exactly_one_probe_through_after_cool_down() -> None:
    breaker, clock = make(k=1, cool_down=10)
    breaker.record_failure()
    clock.advance(9.9)
    assert breaker.allow() is False
    clock.advance(0.1)
    assert breaker.state is CircuitState.HALF_OPEN
    assert breaker.would_allow() is True
    assert breaker.allow() is True
    assert breaker.allow() is False  # one probe at a time
    breaker.record_success()
    assert breaker.state is CircuitState.CLOSED and breaker.allow()


def test_failed_probe_reopens_and_restarts_the_cool_down() -> None:
    breaker, clock = make(k=2, cool_down=5)
    breaker.record_failure()
    breaker.record_failure()
    clock.advance(5)
    assert breaker.allow()
    breaker.record_failure()
    assert breaker.state is CircuitState.OPEN
    clock.advance(4)
    assert breaker.allow() is False
    clock.advance(1)
    assert breaker.allow() is True


def test_board_keeps_one_breaker_per_rail() -> None:
    board = BreakerBoard(ManualClock(datetime(2026, 1, 1, tzinfo=UTC)), failure_threshold=1)
    board.get("ach").record_failure()
    assert board.get("ach").state is CircuitState.OPEN
    assert board.get("wire").state is CircuitState.CLOSED
    assert {s.name: s.state for s in board.snapshots()} == {
        "ach": CircuitState.OPEN,
        "wire": CircuitState.CLOSED,
    }
