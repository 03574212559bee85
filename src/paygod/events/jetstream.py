"""The NATS JetStream adapter: publish with broker-side dedupe, ensure streams, tail subjects.

Every message carries `Nats-Msg-Id: <event_id>`, so a batch published again after a relay
crash (published, not yet recorded in the cursor) is stored once: JetStream answers the
repeat with `duplicate: true` within the stream's duplicate window. Outside that window the
consumer's own idempotency (by event id) is the guard; see examples/.

Publishing is pipelined (`publish_async`): a batch goes out back to back on one connection,
so it is stored in order, and the acknowledgements are then awaited in order; the report is
the acknowledged prefix, which is all the relay's cursor may move past.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from typing import Any

import nats
import nats.errors
import nats.js.errors
from nats.aio.client import Client
from nats.js import JetStreamContext
from nats.js.api import DeliverPolicy, StorageType, StreamConfig

from paygod.events.model import PublishReport, RelayEvent
from paygod.events.subjects import (
    SUBJECT_ROOT,
    check_namespace,
    family_of,
    filter_subject,
    stream_for,
    stream_prefix,
    stream_subjects,
    subject_for,
)
from paygod.kernel.errors import Unavailable
from paygod.kernel.logging import get_logger

log = get_logger("paygod.nats")

DUPLICATE_WINDOW_SECONDS = 300.0


async def connect(url: str, *, name: str, connect_timeout: float = 2.0) -> Client:
    """A connection that reconnects forever once established; the first connect fails fast.

    nats-py retries the *first* connect as often as later reconnects, so with "forever"
    an unreachable server would hang the caller: the first connect is bounded here.
    """

    seen: set[str] = set()

    async def on_error(exc: Exception) -> None:
        # nats-py reports every retry; one line per distinct error is what a person reads.
        error = f"{type(exc).__name__}: {exc}"
        if error not in seen:
            seen.add(error)
            log.warning("nats_error", server=url, error=error)

    async def on_reconnect() -> None:
        seen.clear()
        log.warning("nats_reconnected", server=url)

    try:
        return await asyncio.wait_for(
            nats.connect(
                url,
                name=name,
                connect_timeout=connect_timeout,
                allow_reconnect=True,
                max_reconnect_attempts=-1,
                reconnect_time_wait=0.5,
                error_cb=on_error,
                reconnected_cb=on_reconnect,
            ),
            timeout=connect_timeout + 1.0,
        )
    except (TimeoutError, OSError, nats.errors.Error) as exc:
        reason = str(exc) or f"no connection within {connect_timeout + 1.0:.0f} s"
        raise Unavailable(f"NATS is unreachable at {url}: {reason}", retry_after=2) from exc


class JetStreamPublisher:
    def __init__(
        self,
        url: str,
        *,
        ack_timeout: float = 5.0,
        duplicate_window: float = DUPLICATE_WINDOW_SECONDS,
        name: str = "paygod-relay",
        namespace: str = SUBJECT_ROOT,
    ) -> None:
        self.url = url
        self.namespace = check_namespace(namespace)
        self.ack_timeout = ack_timeout
        self.duplicate_window = duplicate_window
        self.name = name
        self._nc: Client | None = None
        self._js: JetStreamContext | None = None
        self._streams: set[str] = set()

    async def _context(self) -> JetStreamContext:
        if self._js is None or self._nc is None or self._nc.is_closed:
            self._nc = await connect(self.url, name=self.name)
            self._js = self._nc.jetstream(timeout=self.ack_timeout)
            self._streams.clear()
        return self._js

    async def ensure_stream(self, family: str) -> str:
        """The family's stream, created on first use (file storage, dedupe window)."""
        name = stream_prefix(self.namespace) + family.upper()
        if name in self._streams:
            return name
        js = await self._context()
        try:
            await js.stream_info(name)
        except nats.js.errors.NotFoundError:
            await js.add_stream(
                StreamConfig(
                    name=name,
                    subjects=stream_subjects(family, self.namespace),
                    storage=StorageType.FILE,
                    duplicate_window=self.duplicate_window,
                )
            )
        self._streams.add(name)
        return name

    async def publish(self, events: Sequence[RelayEvent]) -> PublishReport:
        report = PublishReport()
        futures: list[asyncio.Future[Any]] = []
        try:
            js = await self._context()
            for event in events:
                stream = await self.ensure_stream(family_of(event.event_type))
                futures.append(
                    await js.publish_async(
                        subject_for(event.tenant_id, event.event_type, self.namespace),
                        event.body,
                        headers={
                            "Nats-Msg-Id": event.event_id,
                            "Paygod-Entry-Seq": str(event.entry_seq),
                        },
                        stream=stream,
                    )
                )
        except Exception as exc:  # reported; what was sent is still awaited
            report.error = f"{type(exc).__name__}: {exc}"
        for event, future in zip(events, futures, strict=False):
            try:
                ack = await asyncio.wait_for(asyncio.shield(future), self.ack_timeout)
            except Exception as exc:  # timeout, broker error: stop the prefix here
                report.error = report.error or f"{type(exc).__name__}: {exc}"
                break
            report.acked += 1
            report.duplicates += 1 if ack.duplicate else 0
            stream = stream_for(event.event_type, self.namespace)
            report.streams[stream] = report.streams.get(stream, 0) + 1
        for future in futures[report.acked :]:
            future.cancel()
        if report.error:
            # A stream deleted or edited under us: check (and recreate) them next round.
            self._streams.clear()
        return report

    async def close(self) -> None:
        if self._nc is not None and not self._nc.is_closed:
            await self._nc.drain()
        self._nc = None
        self._js = None


def jetstream_status(url: str, namespace: str = SUBJECT_ROOT) -> str:
    """One line for `paygod doctor`: JetStream answers, and which Paygod streams it holds."""

    async def probe() -> str:
        nc = await connect(url, name="paygod-doctor")
        try:
            js = nc.jetstream(timeout=2.0)
            await js.account_info()  # fails when the server runs without JetStream
            streams = await family_streams(js, namespace)
            return f"{url} JetStream ok; streams: {', '.join(streams) or 'none yet'}"
        finally:
            await nc.close()

    return asyncio.run(probe())


async def family_streams(js: JetStreamContext, namespace: str = SUBJECT_ROOT) -> list[str]:
    """Every stream of the namespace on the server (one per event family seen so far)."""
    prefix = stream_prefix(namespace)
    return sorted(
        info.config.name
        for info in await js.streams_info()
        if info.config.name and info.config.name.startswith(prefix)
    )


async def tail(
    url: str,
    *,
    tenant_id: str | None,
    event_type: str | None,
    from_start: bool,
    idle_timeout: float | None = None,
    namespace: str = SUBJECT_ROOT,
) -> AsyncIterator[tuple[str, bytes, dict[str, str]]]:
    """Yield (subject, body, headers) from the Paygod streams matching tenant and type.

    `event_type` is a full type (`payment.settled`), a family (`payment`) or None for all.
    Ordered ephemeral consumers, one per family stream: nothing is left behind on the
    server when the tail stops. With `idle_timeout`, stop after that long without a message.
    """
    only_family = event_type.split(".", 1)[0] if event_type else None
    exact = event_type if event_type and "." in event_type else None
    nc = await connect(url, name="paygod-tail")
    try:
        js = nc.jetstream()
        queue: asyncio.Queue[Any] = asyncio.Queue()
        policy = DeliverPolicy.ALL if from_start else DeliverPolicy.NEW

        async def forward(msg: Any) -> None:
            await queue.put(msg)

        for stream in await family_streams(js, namespace):
            family = stream.removeprefix(stream_prefix(namespace)).lower()
            if only_family is not None and family != only_family:
                continue
            await js.subscribe(
                filter_subject(tenant_id, family, exact, namespace),
                stream=stream,
                ordered_consumer=True,
                deliver_policy=policy,
                cb=forward,
            )
        while True:
            try:
                msg = await asyncio.wait_for(queue.get(), idle_timeout)
            except TimeoutError:
                return
            yield msg.subject, msg.data, dict(msg.headers or {})
    finally:
        await nc.close()
