"""RFC 9421 signed requests at the edge: the body of a request that carries
`Signature-Input` is kept in the ASGI scope (`paygod.signed_body`) so that
`security.enforce_access`, once it knows the caller, can check the signature against the
caller's registered keys, `content-digest` against these very bytes, and claim the nonce."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from paygod.api.middleware import read_body, replay

BODY_KEY = "paygod.signed_body"


class SignedBodies:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not any(
            name == b"signature-input" for name, _ in scope["headers"]
        ):
            await self.app(scope, receive, send)
            return
        body = await read_body(receive)
        scope[BODY_KEY] = body
        await self.app(scope, replay(body, receive), send)


def verify_signed(request: Request, kernel: Any, principal: Any) -> None:
    """Raise Unauthorized unless the request's RFC 9421 signature is the caller's, fresh
    and unreplayed. Requests without `Signature-Input` are not signed and pass."""
    if "signature-input" not in request.headers:
        return
    from paygod.mandates.httpsig import HttpMessage

    message = HttpMessage(
        method=request.method,
        target_uri=str(request.url),
        headers=[(k.decode("latin-1"), v.decode("latin-1")) for k, v in request.scope["headers"]],
        body=request.scope.get(BODY_KEY, b""),
    )
    kernel.mandates.signed_requests.verify(principal.tenant_id, principal.principal_id, message)
