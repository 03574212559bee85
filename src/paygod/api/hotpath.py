"""The hot paths: `POST /v1/decisions` and `POST /v1/payments` served without FastAPI's
per-request machinery.

Sealing a decision (and creating a payment, which seals one) are the kernel's busiest
requests. Through FastAPI each pays for route matching across every included router,
dependency resolution, and two thread-pool hops (the sync `enforce_access` dependency,
then the sync handler), which together cost more CPU than the decision itself on a small
machine. This pure ASGI layer runs the very same `enforce_access` and route function as
FastAPI would, so every guarantee holds unchanged: authentication, rate limits,
permissions, idempotency keys, sealing before the response.

Both routes are written as ledger steps (ledger/steps.py). Where every store is local
(SQLite and no Redis: a read costs microseconds), the request runs on the event loop
itself and waits for its group commit without a thread. A thread per request waiting on
the ledger writer was the largest cost of all: dozens of threads contending for the GIL
made about 145 context switches and 1 ms of kernel CPU per sealed decision. On
PostgreSQL (or with Redis rate limits) a read is a network round trip, which must not
stall the loop: there the steps run in one thread-pool hop, as before; so does a request
whose OIDC token may need the issuer's keys fetched.

Anything unusual is handed to FastAPI untouched (the buffered body replayed), so the
FastAPI route still produces every validation error and stays the documented contract:
a body that does not parse or does not match the model, a missing, bad or repeated
Idempotency-Key, a content type other than JSON. Domain errors raised here go through
the app's own exception handlers (api/problems.py, security.py), found the way Starlette
finds them, so a 401, 409 or 422 reads the same on both paths.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from anyio import to_thread
from pydantic import BaseModel, ValidationError
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from paygod.api import security
from paygod.api.middleware import read_body, replay
from paygod.api.routers import decisions, payments
from paygod.api.routing import is_key_list, require_ijson
from paygod.kernel.errors import InvalidInput
from paygod.ledger.steps import Steps, run_async, run_blocking

Handler = Callable[[Request, Any], Awaitable[Response]]
_JSON_TYPES = (b"application/json", b"application/json; charset=utf-8")
_MAX_KEY = 200  # both routes' Idempotency-Key max_length


ServeSteps = Callable[[Request, Any, str | None], Steps[Response]]


@dataclass(frozen=True)
class Endpoint:
    """One route served here: its body model, whether the Idempotency-Key header is
    required, the route function (request, body, key) -> Response written as ledger
    steps, and the FastAPI route object (set in the scope, so metrics and permission
    lookup see the same template)."""

    model: type[BaseModel]
    key_required: bool
    serve: ServeSteps
    route: Any


def _route(router: Any, endpoint: Callable[..., Any]) -> Any:
    for route in router.routes:
        if getattr(route, "endpoint", None) is endpoint:
            return route
    raise RuntimeError(f"no route for {endpoint.__name__}")  # pragma: no cover


def _decision_steps(request: Request, body: Any, key: str | None) -> Steps[Response]:
    assert key is not None  # required for this endpoint
    result = yield from decisions.decide_steps(request, body, key)
    return decisions.json_response(result)


def endpoints() -> dict[str, Endpoint]:
    return {
        "/v1/decisions": Endpoint(
            decisions.DecisionRequest,
            True,
            _decision_steps,
            _route(decisions.router, decisions.create_decision),
        ),
        "/v1/payments": Endpoint(
            payments.PaymentBody,
            False,
            payments.create_steps,
            _route(payments.router, payments.create_payment),
        ),
    }


class HotPaths:
    """Serves the POST routes of `endpoints()`; every other request goes to `app` as is."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.endpoints = endpoints()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        endpoint = (
            self.endpoints.get(scope["path"])
            if scope["type"] == "http" and scope["method"] == "POST"
            else None
        )
        if endpoint is None:
            await self.app(scope, receive, send)
            return
        body = await read_body(receive)
        if not await self._serve(endpoint, scope, body, send):
            await self.app(scope, replay(body, receive), send)

    async def _serve(self, endpoint: Endpoint, scope: Scope, body: bytes, send: Send) -> bool:
        """Serve the request and return True, or return False to let FastAPI serve it."""
        content_type = key = None
        for name, value in scope["headers"]:
            if name == b"content-type":
                content_type = value.lower()
            elif name == b"idempotency-key":
                if key is not None:
                    return False  # repeated header: the FastAPI route refuses it (422)
                key = value
        if content_type not in _JSON_TYPES:
            return False
        if key is None and endpoint.key_required:
            return False
        if key is not None and (not 1 <= len(key) <= _MAX_KEY or is_key_list(key)):
            return False  # too long, or two keys merged into a list: the route refuses it
        try:
            # Duplicate names or NaN: the FastAPI route refuses them with the reason.
            require_ijson(body, content_type.decode("latin-1"))
            parsed = endpoint.model.model_validate_json(body)
            idempotency_key = key.decode("latin-1") if key is not None else None
        except (ValidationError, ValueError, InvalidInput):
            return False
        scope["route"] = endpoint.route
        request = Request(scope)
        ledger = request.app.state.kernel.ledger

        def work() -> Response:
            # One hop for both: authenticate and authorise exactly as the /v1 router's
            # dependency does, then run the route function as the FastAPI route does.
            security.enforce_access(request)
            return run_blocking(ledger, endpoint.serve(request, parsed, idempotency_key))

        try:
            if request.app.state.kernel.serves_from_local_state and security.checked_locally(
                request
            ):
                # Local reads: run on the loop; wait for the group commit without a thread.
                security.enforce_access(request)
                steps = endpoint.serve(request, parsed, idempotency_key)
                response = await run_async(ledger, steps)
            else:
                response = await to_thread.run_sync(work)
        except Exception as exc:
            response = await _handle(request, exc)
        await response(scope, _no_body, send)
        return True


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
