"""RFC 9421 signed requests at the edge: the body of a request that carries
`Signature-Input` is kept in the ASGI scope (`paygod.signed_body`) so that
`security.enforce_access`, once it knows the caller, can check the signature against the
caller's registered keys, `content-digest` against these very bytes, and claim the nonce."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

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
        chunks: list[bytes] = []
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        scope[BODY_KEY] = body
        sent = False

        async def replayed() -> Message:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replayed, send)


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
