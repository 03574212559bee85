"""Ledger steps: a service's work written once, waited for by a thread or an event loop.

A service that writes to the ledger as part of a longer piece of work can be written as a
generator that yields each ledger `WriteRequest` where it would otherwise block on it.
`run_blocking` drives it from a thread (the request waits on its event, as `transact`
does); `run_async` drives it from an event loop, which waits for the writer's wake-up
instead of parking a thread per request. The work itself, and so every check and every
write, is the same code either way.
"""

from __future__ import annotations

import asyncio
from collections.abc import Generator
from functools import partial
from typing import TypeVar

from paygod.ledger.groupcommit import WriteRequest
from paygod.ledger.service import LedgerService

T = TypeVar("T")

# Yields a request to settle; is resumed (with None) once it is settled.
Steps = Generator[WriteRequest, None, T]


def run_blocking(ledger: LedgerService, steps: Steps[T]) -> T:
    try:
        request = next(steps)
        while True:
            ledger.enqueue(request)
            request.done.wait()
            request = steps.send(None)
    except StopIteration as stop:
        result: T = stop.value
        return result


async def run_async(ledger: LedgerService, steps: Steps[T]) -> T:
    loop = asyncio.get_running_loop()
    try:
        request = next(steps)
        while True:
            settled: asyncio.Future[None] = loop.create_future()
            request.on_done = partial(loop.call_soon_threadsafe, _settle, settled)
            ledger.enqueue(request)
            await settled
            request = steps.send(None)
    except StopIteration as stop:
        result: T = stop.value
        return result


def _settle(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)
