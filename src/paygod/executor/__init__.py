"""The executor: transactional outbox workers, retries, dead letters, breakers, panic switch."""

from paygod.executor.breaker import BreakerBoard, CircuitBreaker, CircuitState
from paygod.executor.model import OutboxMessage, PanicState
from paygod.executor.panic import PanicService
from paygod.executor.ports import OutboxStore, PanicSwitch
from paygod.executor.worker import Handler, PermanentFailure, Worker

__all__ = [
    "BreakerBoard",
    "CircuitBreaker",
    "CircuitState",
    "Handler",
    "OutboxMessage",
    "OutboxStore",
    "PanicService",
    "PanicState",
    "PanicSwitch",
    "PermanentFailure",
    "Worker",
]
