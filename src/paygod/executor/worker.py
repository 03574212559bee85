"""The outbox worker: claim → (panic? nothing) → dispatch by event type → ack / retry / bury.

Handlers must be idempotent, keyed by the decision or payment id the event names: a
worker can die after the side effect and before the ack, and the row is then claimed
again when its lease ends. Failures are retried with exponential backoff and jitter by
moving the row's `available_at`; after `max_attempts` the row goes to the dead-letter
queue (status 'dead') with the last error.
"""

from __future__ import annotations

import asyncio
import os
import socket
import threading
import traceback
from collections.abc import Awaitable, Callable, Generator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from paygod.executor.backoff import Backoff
from paygod.executor.model import OutboxMessage
from paygod.executor.ports import OutboxStore, PanicSwitch
from paygod.kernel import tracing
from paygod.kernel.clock import Clock
from paygod.kernel.logging import get_logger
from paygod.kernel.record_ids import new_id

Handler = Callable[[OutboxMessage], None]
# The same work written for an event loop: it waits without holding a thread.
AsyncHandler = Callable[[OutboxMessage], Awaitable[None]]
# Handles one aggregate's messages in order: yields each message, is sent whether it may
# be acknowledged, returns the acknowledged ids (driven by a thread or an event loop).
GroupSteps = Generator[OutboxMessage, bool, list[str]]
log = get_logger("paygod.executor")


class PermanentFailure(Exception):
    """The message can never succeed (unknown payment, invalid instruction): dead-letter now."""


class RetryLater(Exception):
    """Not a failure: the message's preconditions are not met yet (try again after `delay`)."""

    def __init__(self, reason: str, delay: float = 0.5) -> None:
        super().__init__(reason)
        self.delay = delay


class WorkTypes:
    """The event types a worker has work for (handed to `LedgerService.route_outbox`): those
    with a handler, and those a tap wants. A tap's `wants` is asked at every outbox write, so
    it must answer from memory (a dict lookup)."""

    def __init__(self, worker: Worker) -> None:
        self.worker = worker

    def __contains__(self, event_type: object) -> bool:
        if event_type in self.worker.handlers:
            return True
        return isinstance(event_type, str) and any(
            wants(event_type) for wants, _ in self.worker.taps
        )


@dataclass
class WorkReport:
    claimed: int = 0
    done: int = 0
    retried: int = 0
    dead: int = 0
    frozen: bool = False
    errors: list[str] = field(default_factory=list)


def _consumer_span(message: OutboxMessage) -> AbstractContextManager[Any]:
    """The executor's span for one message, continuing the trace that wrote it."""
    started = tracing.span(
        f"paygod.executor {message.event_type}",
        message.envelope.get("traceparent"),
        kind="consumer",
    )
    return started


def default_worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{new_id()[-8:]}"


class Worker:
    def __init__(
        self,
        store: OutboxStore,
        panic: PanicSwitch,
        clock: Clock,
        handlers: Mapping[str, Handler] | None = None,
        *,
        worker_id: str | None = None,
        batch: int = 32,
        lease_seconds: float = 30.0,
        backoff: Backoff | None = None,
        event_types: Sequence[str] | None = None,
        concurrency: int = 1,
    ) -> None:
        self.store = store
        self.panic = panic
        self.clock = clock
        self.handlers: dict[str, Handler] = dict(handlers or {})
        self.worker_id = worker_id or default_worker_id()
        self.batch = batch
        self.lease_seconds = lease_seconds
        self.backoff = backoff or Backoff()
        self.event_types = list(event_types) if event_types else None
        self.concurrency = concurrency
        self.async_handlers: dict[str, AsyncHandler] = {}
        # Consumers of any event type they want, after its own handler (notifications).
        self.taps: list[tuple[Callable[[str], bool], Handler]] = []
        # Run the async handlers of a round side by side on one event loop in this worker's
        # thread instead of a thread each (set where every store is local: SQLite, no Redis).
        self.on_loop = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._pool: ThreadPoolExecutor | None = None
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    def register(
        self, event_type: str, handler: Handler, *, on_loop: AsyncHandler | None = None
    ) -> None:
        """`handler` runs in a thread; `on_loop`, the same work as a coroutine, is used
        instead when the worker runs its rounds on an event loop (`on_loop`)."""
        self.handlers[event_type] = handler
        if on_loop is not None:
            self.async_handlers[event_type] = on_loop

    def tap(self, wants: Callable[[str], bool], handler: Handler) -> None:
        """Offer every message whose type `wants` accepts to `handler`, after the type's own
        handler succeeds; a failing tap retries the message (handlers are idempotent)."""
        self.taps.append((wants, handler))

    @property
    def work_types(self) -> WorkTypes:
        return WorkTypes(self)

    def _run_taps(self, message: OutboxMessage) -> None:
        for wants, handler in self.taps:
            if wants(message.event_type):
                handler(message)

    def run_once(self) -> WorkReport:
        """One claim-and-dispatch round. While the platform's panic switch is on, nothing is
        claimed; while a tenant's is on, nothing of that tenant is."""
        report = WorkReport()
        if self.panic.status().on:
            report.frozen = True
            return report
        messages = self.store.claim(
            self.worker_id,
            now=self.clock.now(),
            limit=self.batch,
            lease_seconds=self.lease_seconds,
            event_types=self.event_types,
            skip_tenants=self.panic.frozen_tenants(),
        )
        report.claimed = len(messages)
        # Messages of one aggregate (one payment) run in order; different aggregates may
        # run side by side, so their ledger writes share group commits.
        groups: dict[str, list[OutboxMessage]] = {}
        for message in messages:
            groups.setdefault(message.aggregate_id, []).append(message)
        acks: list[str] = []
        if self.on_loop and self.async_handlers:
            loop = self._event_loop()
            try:
                outcomes = loop.run_until_complete(self._run_groups_async(groups))
            except BaseException:
                # What escapes asyncio (SystemExit, KeyboardInterrupt) leaves this round's
                # tasks half-run in the loop: the next round must start on a fresh one,
                # not resume them (their messages are retried once their lease ends).
                self._loop = None
                loop.close()
                raise
        elif self.concurrency > 1 and len(groups) > 1:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(self.concurrency, thread_name_prefix="outbox")
            outcomes = list(self._pool.map(self._run_group, groups.values()))
        else:
            outcomes = [self._run_group(group) for group in groups.values()]
        for group_report, group_acks in outcomes:
            acks.extend(group_acks)
            report.retried += group_report.retried
            report.dead += group_report.dead
            report.frozen = report.frozen or group_report.frozen
            report.errors.extend(group_report.errors)
        report.done += self.store.ack_many(acks, self.worker_id)
        return report

    def _run_group(self, group: list[OutboxMessage]) -> tuple[WorkReport, list[str]]:
        report = WorkReport()
        steps = self._group_steps(group, report)
        try:
            message = next(steps)
            while True:
                message = steps.send(self._handle(message, report))
        except StopIteration as done:
            return report, done.value

    async def _run_group_async(self, group: list[OutboxMessage]) -> tuple[WorkReport, list[str]]:
        report = WorkReport()
        steps = self._group_steps(group, report)
        try:
            message = next(steps)
            while True:
                message = steps.send(await self._handle_async(message, report))
        except StopIteration as done:
            return report, done.value

    async def _run_groups_async(
        self, groups: dict[str, list[OutboxMessage]]
    ) -> list[tuple[WorkReport, list[str]]]:
        # At most `concurrency` aggregates in flight, as with threads: one at a time when
        # asked for one (an operator's --concurrency 1 keeps its meaning on a loop too).
        gate = asyncio.Semaphore(max(1, self.concurrency))

        async def gated(group: list[OutboxMessage]) -> tuple[WorkReport, list[str]]:
            async with gate:
                return await self._run_group_async(group)

        return list(await asyncio.gather(*(gated(g) for g in groups.values())))

    def _group_steps(self, group: list[OutboxMessage], report: WorkReport) -> GroupSteps:
        acks: list[str] = []
        for index, message in enumerate(group):
            if self._frozen(message.tenant_id):
                # Switched on mid-batch: hand the rest back untouched.
                for rest in group[index:]:
                    self.store.release(
                        rest.event_id,
                        self.worker_id,
                        error="panic switch on",
                        available_at=self.clock.now(),
                    )
                report.frozen = True
                break
            if (yield message):
                acks.append(message.event_id)
            else:
                # A failed step blocks the later messages of the same aggregate this round.
                for rest in group[index + 1 :]:
                    self.store.release(
                        rest.event_id,
                        self.worker_id,
                        error="an earlier message of this aggregate is retrying",
                        available_at=self.clock.now(),
                    )
                break
        return acks

    def _frozen(self, tenant_id: str) -> bool:
        """The platform's switch or the message's own tenant's is on."""
        return self.panic.status().on or self.panic.status(tenant_id).on

    def _event_loop(self) -> asyncio.AbstractEventLoop:
        if self._loop is None or self._loop.is_closed():
            self._loop = asyncio.new_event_loop()
        return self._loop

    def _handle(self, message: OutboxMessage, report: WorkReport) -> bool:
        """Run the handler; True when the message may be acknowledged."""
        handler = self.handlers.get(message.event_type)
        try:
            if handler is not None:
                if tracing.enabled():
                    with _consumer_span(message):
                        handler(message)
                else:
                    handler(message)
            if self.taps:
                self._run_taps(message)
        except Exception as exc:
            return self._failed(message, exc, report)
        # Events nobody here handles are acknowledged: in standalone mode the worker is the
        # only consumer of the outbox (distributed mode relays them to NATS instead).
        return True

    async def _handle_async(self, message: OutboxMessage, report: WorkReport) -> bool:
        """`_handle` on the event loop; a handler without a coroutine form gets a thread."""
        handler = self.async_handlers.get(message.event_type)
        plain = self.handlers.get(message.event_type)
        try:
            if tracing.enabled() and (handler is not None or plain is not None):
                with _consumer_span(message):
                    if handler is not None:
                        await handler(message)
                    elif plain is not None:
                        await asyncio.to_thread(plain, message)
            elif handler is not None:
                await handler(message)
            elif plain is not None:
                await asyncio.to_thread(plain, message)
            if self.taps:
                await asyncio.to_thread(self._run_taps, message)
        except Exception as exc:
            return self._failed(message, exc, report)
        return True

    def _failed(self, message: OutboxMessage, exc: Exception, report: WorkReport) -> bool:
        """Retry later, or bury: a handler's exception, by kind. Always False."""
        if isinstance(exc, RetryLater):
            self.store.release(
                message.event_id,
                self.worker_id,
                error=f"waiting: {exc}",
                available_at=self.clock.now() + timedelta(seconds=exc.delay),
            )
            report.retried += 1
            return False
        if isinstance(exc, PermanentFailure):
            self._bury(message, f"PermanentFailure: {exc}", report)
            return False
        error = f"{type(exc).__name__}: {exc}"
        report.errors.append(error)
        if message.attempts >= self.backoff.max_attempts:
            self._bury(message, error, report)
            return False
        delay = self.backoff.delay(message.attempts)
        log.warning(
            "outbox_retry",
            event_id=message.event_id,
            event_type=message.event_type,
            attempt=message.attempts,
            delay_s=round(delay, 3),
            error=error,
            trace="".join(traceback.format_exception(exc, limit=3)),
        )
        self.store.release(
            message.event_id,
            self.worker_id,
            error=error,
            available_at=self.clock.now() + timedelta(seconds=delay),
        )
        report.retried += 1
        return False

    def _bury(self, message: OutboxMessage, error: str, report: WorkReport) -> None:
        log.error(
            "outbox_dead_letter",
            event_id=message.event_id,
            event_type=message.event_type,
            attempts=message.attempts,
            error=error,
        )
        if self.store.bury(message.event_id, self.worker_id, error=error):
            report.dead += 1

    def drain(self, *, max_rounds: int = 10_000) -> WorkReport:
        """Run rounds until one claims nothing (tests, `paygod worker --once`)."""
        total = WorkReport()
        for _ in range(max_rounds):
            report = self.run_once()
            total.claimed += report.claimed
            total.done += report.done
            total.retried += report.retried
            total.dead += report.dead
            total.errors.extend(report.errors)
            total.frozen = report.frozen
            if report.claimed == 0:
                break
        return total

    def run_forever(self, *, idle_seconds: float = 0.05) -> None:
        while not self._stop.is_set():
            try:
                report = self.run_once()
            except Exception as exc:  # the store may be down for a moment; keep the loop alive
                log.error("outbox_round_failed", error=f"{type(exc).__name__}: {exc}")
                report = WorkReport()
                self._stop.wait(1.0)
            if report.claimed == 0:
                self._wake.wait(idle_seconds)
                self._wake.clear()

    def wake(self) -> None:
        """Nudge an idle loop (after a write that queued work), instead of waiting out the poll."""
        self._wake.set()

    def start(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        self._thread = threading.Thread(
            target=self.run_forever, name=f"paygod-worker-{self.worker_id}", daemon=True
        )
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        if self._pool is not None:
            self._pool.shutdown(wait=False)
            self._pool = None
        # A round still running past the join's timeout keeps its loop; it is closed with it.
        if self._loop is not None and not self._loop.is_running():
            self._loop.close()
            self._loop = None
