"""The hot path: `POST /v1/decisions` served without FastAPI's per-request machinery.

Sealing a decision is the kernel's busiest request. Through FastAPI it pays for route
matching across every included router, dependency resolution, and two thread-pool hops
(the sync `enforce_access` dependency, then the sync handler), which together cost more
CPU than the decision itself on a small machine. This pure ASGI layer serves the
well-formed request in one thread-pool hop that runs the very same `enforce_access` and
`DecisionService.decide` as the FastAPI route, so every guarantee holds unchanged:
authentication, rate limits, permissions, idempotency keys, sealing before the response.

Anything unusual is handed to FastAPI untouched (the buffered body replayed), so the one
FastAPI route still produces every validation error and stays the documented contract:
a body that does not parse or does not match the model, a missing or bad
Idempotency-Key, a content type other than JSON. Domain errors raised here go through
the app's own exception handlers (api/problems.py, security.py), found the way Starlette
finds them, so a 401, 409 or 422 reads the same on both paths.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from anyio import to_thread
from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from paygod.api import security
from paygod.api.routers import decisions

Handler = Callable[[Request, Any], Awaitable[Response]]
_JSON_TYPES = (b"application/json", b"application/json; charset=utf-8")
_MAX_KEY = 200  # the route's Idempotency-Key max_length


def _decision_route() -> Any:
    """The FastAPI route object, set in the scope so metrics and permission lookup see the
    same route template on both paths."""
    for route in decisions.router.routes:
        if getattr(route, "endpoint", None) is decisions.create_decision:
            return route
    raise RuntimeError("the decisions router has no create_decision route")  # pragma: no cover


class HotPaths:
    """Serves POST /v1/decisions directly; every other request goes to `app` as is."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.route = _decision_route()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or scope["path"] != "/v1/decisions":
            await self.app(scope, receive, send)
            return
        body = await _read_body(receive)
        if not await self._decide(scope, body, send):
            await self.app(scope, _replay(body, receive), send)

    async def _decide(self, scope: Scope, body: bytes, send: Send) -> bool:
        """Serve the request and return True, or return False to let FastAPI serve it."""
        content_type = key = None
        for name, value in scope["headers"]:
            if name == b"content-type":
                content_type = value.lower()
            elif name == b"idempotency-key":
                if key is not None:
                    return False  # repeated header: FastAPI decides what that means
                key = value
        if content_type not in _JSON_TYPES or key is None or not 1 <= len(key) <= _MAX_KEY:
            return False
        try:
            request_body = decisions.DecisionRequest.model_validate_json(body)
            idempotency_key = key.decode("latin-1")
        except (ValidationError, ValueError):
            return False
        scope["route"] = self.route
        request = Request(scope)

        def work() -> dict[str, Any]:
            # One hop for both: authenticate and authorise exactly as the /v1 router's
            # dependency does, then decide and seal as the route handler does.
            security.enforce_access(request)
            return decisions.decide(request, request_body, idempotency_key)

        try:
            result = await to_thread.run_sync(work)
        except Exception as exc:
            response = await _handle(request, exc)
        else:
            response = decisions.json_response(result)
        await response(scope, _no_body, send)
        return True


async def _read_body(receive: Receive) -> bytes:
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break  # a disconnect: FastAPI sees the same (empty) body and nobody reads it
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replayed


async def _no_body() -> Message:  # pragma: no cover - a Response never reads the request
    return {"type": "http.disconnect"}


async def _handle(request: Request, exc: Exception) -> Response:
    """The app's own handler for `exc`, looked up by class like Starlette does."""
    handlers: dict[Any, Handler] = request.app.exception_handlers
    for cls in type(exc).__mro__:
        handler = handlers.get(cls)
        if handler is not None:
            return await handler(request, exc)
    raise exc  # pragma: no cover - the app installs a handler for Exception
