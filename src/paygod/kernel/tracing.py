"""W3C trace context and OpenTelemetry spans, off unless configured.

Tracing is on when `PAYGOD_OTEL_ENDPOINT` names an OTLP/HTTP collector (spans go to
`<endpoint>/v1/traces`), or when a test installs an exporter (`enable`). Off, every
function here returns at its first line: no OpenTelemetry import, no context object, no
span; the decision hot path pays one global read.

The chain a trace follows: the HTTP request (a `traceparent` header is continued), the
decision, its seal, the event written to the outbox (its envelope carries the
`traceparent` of the span that wrote it), the executor's handling of that event, and the
rail or action call it makes.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, MutableMapping
from contextlib import contextmanager
from typing import Any

TRACEPARENT = re.compile(r"^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$")
SERVICE_NAME = "paygod"

_enabled = False
_tracer: Any = None
_provider: Any = None


class _NoSpan:
    """What `span` yields while tracing is off."""

    __slots__ = ()

    def set_attribute(self, key: str, value: Any) -> None:
        return None

    def record_exception(self, exc: BaseException) -> None:
        return None

    def end(self) -> None:
        return None


NO_SPAN = _NoSpan()


def enabled() -> bool:
    return _enabled


def configure(endpoint: str | None, *, service_name: str = SERVICE_NAME) -> bool:
    """Export spans over OTLP/HTTP to `endpoint` (nothing when it is empty)."""
    if not endpoint:
        return False
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    exporter = OTLPSpanExporter(endpoint=endpoint.rstrip("/") + "/v1/traces")
    enable(BatchSpanProcessor(exporter), service_name=service_name)
    return True


def enable(processor: Any, *, service_name: str = SERVICE_NAME) -> None:
    """Turn tracing on with this span processor (an OTLP batch, or a test's in-memory one)."""
    global _enabled, _tracer, _provider
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider

    provider = TracerProvider(resource=Resource.create({"service.name": service_name}))
    provider.add_span_processor(processor)
    _provider = provider
    _tracer = provider.get_tracer("paygod")
    _enabled = True


def disable() -> None:
    global _enabled, _tracer, _provider
    if _provider is not None:
        _provider.shutdown()
    _enabled, _tracer, _provider = False, None, None


def _parent(traceparent: str | None) -> Any:
    from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

    if traceparent and TRACEPARENT.match(traceparent):
        return TraceContextTextMapPropagator().extract({"traceparent": traceparent})
    return None  # the current context


@contextmanager
def span(name: str, traceparent: str | None = None, *, kind: str = "internal") -> Iterator[Any]:
    """A span around a block, current inside it; its parent is `traceparent` when given
    (a message from the outbox, an HTTP request), else the span current here."""
    if not _enabled:
        yield NO_SPAN
        return
    from opentelemetry.trace import SpanKind

    kinds = {"server": SpanKind.SERVER, "client": SpanKind.CLIENT, "consumer": SpanKind.CONSUMER}
    with _tracer.start_as_current_span(
        name, context=_parent(traceparent), kind=kinds.get(kind, SpanKind.INTERNAL)
    ) as current:
        yield current


def start(name: str, parent: Any = None) -> Any:
    """A child of `parent` (default: the current span) that is not made current: for work
    that crosses a generator's `yield` (a seal waits for the group commit there), where a
    current span would be detached in another context. The caller ends it."""
    if not _enabled:
        return NO_SPAN
    if parent is None or parent is NO_SPAN:
        return _tracer.start_span(name)
    from opentelemetry import trace

    return _tracer.start_span(name, context=trace.set_span_in_context(parent))


def traceparent_of(started: Any) -> str | None:
    """The `traceparent` naming span `started` (from `start`), for a message it writes."""
    if not _enabled or started is NO_SPAN:
        return None
    context = started.get_span_context()
    return f"00-{context.trace_id:032x}-{context.span_id:016x}-{context.trace_flags:02x}"


@contextmanager
def current(started: Any) -> Iterator[None]:
    """Make a span from `start` current for a block that does not yield."""
    if not _enabled or started is NO_SPAN:
        yield
        return
    from opentelemetry import trace

    with trace.use_span(started, end_on_exit=False):
        yield


def current_traceparent() -> str | None:
    """The `traceparent` of the current span, for a message that continues the trace."""
    if not _enabled:
        return None
    carrier: dict[str, str] = {}
    inject(carrier)
    return carrier.get("traceparent")


def inject(carrier: MutableMapping[str, str]) -> None:
    """Add `traceparent` (and `tracestate`) for the current span to outgoing headers."""
    if not _enabled:
        return
    from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

    TraceContextTextMapPropagator().inject(carrier)


class TraceMiddleware:
    """ASGI: a server span per HTTP request, continuing the caller's `traceparent`."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if not _enabled or scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        traceparent = None
        for name, value in scope.get("headers") or ():
            if name == b"traceparent":
                traceparent = value.decode("latin-1")
                break
        with span(f"{scope['method']} {scope['path']}", traceparent, kind="server") as server:
            server.set_attribute("http.request.method", scope["method"])
            server.set_attribute("url.path", scope["path"])

            async def sending(message: Any) -> None:
                if message["type"] == "http.response.start":
                    server.set_attribute("http.response.status_code", message["status"])
                await send(message)

            await self.app(scope, receive, sending)
