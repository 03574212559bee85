"""Pure ASGI middleware: request id in and out, body size limit, metrics, access log.

Pure ASGI (not BaseHTTPMiddleware) because it sits on every request's hot path.
"""

from __future__ import annotations

import re
import time
from typing import Any
from urllib.parse import parse_qsl

import orjson
import structlog
from prometheus_client import CollectorRegistry, Counter, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from paygod.kernel.errors import PROBLEM_BASE, InvalidInput, KernelCode
from paygod.kernel.logging import get_logger
from paygod.kernel.record_ids import new_id

REQUEST_ID_HEADER = b"x-request-id"
_VALID_REQUEST_ID = re.compile(rb"^[A-Za-z0-9._:\-]{1,128}$")
log = get_logger("paygod.access")


async def read_body(receive: Receive) -> bytes:
    """The whole request body, read from the ASGI messages."""
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break  # a disconnect: FastAPI sees the same (empty) body and nobody reads it
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def replay(body: bytes, receive: Receive) -> Receive:
    """A `receive` that hands the app the body already read, then the real messages."""
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replayed


class HttpMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.requests = Counter(
            "paygod_http_requests_total",
            "HTTP requests by method, route template and status",
            ["method", "route", "status"],
            registry=registry,
        )
        self.latency = Histogram(
            "paygod_http_request_duration_seconds",
            "HTTP request latency by method and route template",
            ["method", "route"],
            registry=registry,
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
        )


class _BodyTooLarge(Exception):
    pass


def nul_pointer(scope: Scope) -> str | None:
    """Where a request's path or query holds U+0000 (`#path`, `#query/<name>`), or None.

    No id, name or filter can contain NUL: ids refuse control characters and PostgreSQL
    text cannot hold the character at all, so a lookup by such a value answered 500 there
    (GET /v1/accounts/a%00, ?after=%00) and a webhook for rail %00 failed the ledger
    writer's whole batch. It is refused here, before any route reads or records.
    """
    if "\x00" in scope.get("path", ""):
        return "#path"
    query: bytes = scope.get("query_string", b"")
    if b"%00" not in query and b"\x00" not in query:
        return None
    for name, value in parse_qsl(query.decode("latin-1"), keep_blank_values=True):
        if "\x00" in name or "\x00" in value:
            return "#query/" + name.replace("\x00", "")
    return None


class EdgeMiddleware:
    def __init__(self, app: ASGIApp, *, metrics: HttpMetrics, max_body_bytes: int) -> None:
        self.app = app
        self.metrics = metrics
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        headers = dict(scope.get("headers") or [])
        supplied = headers.get(REQUEST_ID_HEADER, b"")
        request_id = supplied.decode() if _VALID_REQUEST_ID.match(supplied) else new_id()
        scope.setdefault("state", {})["request_id"] = request_id
        structlog.contextvars.bind_contextvars(request_id=request_id)
        status_holder = {"status": 500}

        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_body_bytes:
            await self._too_large(send, request_id)
            self._observe(scope, 413, started)
            return

        nul = nul_pointer(scope)
        if nul is not None:
            await self._nul_refused(send, scope, request_id, nul)
            self._observe(scope, 422, started)
            return

        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body_bytes:
                    raise _BodyTooLarge
            return message

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                status_holder["status"] = message["status"]
                message["headers"] = [
                    *message.get("headers", []),
                    (REQUEST_ID_HEADER, request_id.encode()),
                ]
            await send(message)

        try:
            await self.app(scope, limited_receive, send_with_id)
        except _BodyTooLarge:
            await self._too_large(send, request_id)
            status_holder["status"] = 413
        finally:
            self._observe(scope, status_holder["status"], started)
            structlog.contextvars.unbind_contextvars("request_id")

    def _observe(self, scope: Scope, status: int, started: float) -> None:
        elapsed = time.perf_counter() - started
        route: Any = scope.get("route")
        template = getattr(route, "path", None) or "unmatched"
        method = scope.get("method", "")
        self.metrics.requests.labels(method, template, str(status)).inc()
        self.metrics.latency.labels(method, template).observe(elapsed)
        if template not in {"/healthz", "/metrics"}:
            log.info(
                "http_request",
                method=method,
                path=scope.get("path"),
                status=status,
                duration_ms=round(elapsed * 1000, 3),
            )

    async def _nul_refused(self, send: Send, scope: Scope, request_id: str, pointer: str) -> None:
        await self._problem(
            send,
            request_id,
            InvalidInput.status,
            {
                "type": PROBLEM_BASE + InvalidInput.code,
                "title": InvalidInput.title,
                "status": InvalidInput.status,
                "detail": "the request's path or query holds U+0000 (NUL); nothing was recorded",
                "instance": scope.get("path", ""),
                "errors": [{"pointer": pointer, "message": "must not contain U+0000"}],
            },
        )

    async def _problem(
        self, send: Send, request_id: str, status: int, problem: dict[str, Any]
    ) -> None:
        body = orjson.dumps(problem)
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", b"application/problem+json"),
                    (b"content-length", str(len(body)).encode()),
                    (REQUEST_ID_HEADER, request_id.encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})

    async def _too_large(self, send: Send, request_id: str) -> None:
        await self._problem(
            send,
            request_id,
            413,
            {
                "type": PROBLEM_BASE + KernelCode.PAYLOAD_TOO_LARGE,
                "title": "Payload too large",
                "status": 413,
                "detail": f"request body exceeds {self.max_body_bytes} bytes",
            },
        )
