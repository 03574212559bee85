"""Ledger steps: a service's work written once, waited for by a thread or an event loop.

A service that writes to the ledger as part of a longer piece of work can be written as a
generator that yields each ledger `WriteRequest` where it would otherwise block on it (and
each other blocking call, wrapped in an `Offload`).
`run_blocking` drives it from a thread (the request waits on its event, as `transact`
does); `run_async` drives it from an event loop, which waits for the writer's wake-up
instead of parking a thread per request. The work itself, and so every check and every
write, is the same code either way.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Generator
from functools import partial
from typing import Any, TypeVar

from paygod.ledger.groupcommit import WriteRequest
from paygod.ledger.service import LedgerService

T = TypeVar("T")


class Offload:
    """A blocking call a step needs (a rail's network round trip, a file write): run in
    place from a thread, in a worker thread from an event loop. Yield it, then read
    `outcome()` (its result, or its exception raised)."""

    __slots__ = ("call", "error", "result")

    def __init__(self, call: Callable[[], Any]) -> None:
        self.call = call
        self.result: Any = None
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            self.result = self.call()
        except BaseException as exc:  # handed to the step, which raises it in its own frame
            self.error = exc

    def outcome(self) -> Any:
        if self.error is not None:
            raise self.error
        return self.result


# Yields a ledger request (or an Offload) to settle; is resumed with None once it is.
Steps = Generator[WriteRequest | Offload, None, T]


def run_blocking(ledger: LedgerService, steps: Steps[T]) -> T:
    try:
        item = next(steps)
        while True:
            if isinstance(item, Offload):
                item.run()
            else:
                ledger.enqueue(item)
                item.done.wait()
            item = steps.send(None)
    except StopIteration as stop:
        result: T = stop.value
        return result


async def run_async(ledger: LedgerService, steps: Steps[T]) -> T:
    loop = asyncio.get_running_loop()
    try:
        item = next(steps)
        while True:
            if isinstance(item, Offload):
                await asyncio.to_thread(item.run)
            else:
                settled: asyncio.Future[None] = loop.create_future()
                item.on_done = partial(loop.call_soon_threadsafe, _settle, settled)
                ledger.enqueue(item)
                await settled
            item = steps.send(None)
    except StopIteration as stop:
        result: T = stop.value
        return result


def _settle(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)
