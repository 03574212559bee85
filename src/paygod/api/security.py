"""The one place every /v1 request is authenticated, rate-limited and authorised.

`enforce_access` is attached to the /v1 router as a global dependency. It sets
`request.state.principal` (a `Principal`), `request.state.auth` (how it was proven) and
`request.state.scope` (`Scope.OWN` or `Scope.ALL`) for handlers, which scope their
queries with them (`tenant_filter`, `owner_filter`; `require_same_tenant`, `require_own`
for an object already in hand).
"""

from __future__ import annotations

import math
from typing import Any

from fastapi import FastAPI, Request
from starlette.responses import Response
from uvicorn.protocols.http.h11_impl import H11Protocol

from paygod.api import problems
from paygod.api.console.session import CSRF_HEADER, SAFE_METHODS, SESSION_COOKIE, csrf_matches
from paygod.api.errors import ApiCode
from paygod.api.signed import verify_signed
from paygod.identity.model import ALL_TENANTS, Authenticated, Principal
from paygod.identity.permissions import (
    AUDITED_READS,
    SENSITIVE,
    STEP_UP,
    Scope,
    grant,
    scope_allows,
)
from paygod.identity.route_permissions import AUTHENTICATED, EVIDENCE_ROUTES, permission_for
from paygod.identity.service import IdentityService
from paygod.kernel.errors import Forbidden, RateLimited, Unauthorized

TOTP_HEADER = "x-paygod-totp"
REASON_HEADER = "x-paygod-reason"
CLIENT_CERT_SUBJECT = "paygod.client_cert_subject"  # set in the ASGI scope by the TLS layer
WWW_AUTHENTICATE = 'Bearer realm="paygod", ApiKey header="X-API-Key"'


def identity_of(request: Request) -> IdentityService:
    service: IdentityService = request.app.state.kernel.identity
    return service


def _client(request: Request) -> str:
    """The peer address. `paygod serve` lets uvicorn rewrite it from X-Forwarded-For only
    for connections from PAYGOD_TRUSTED_PROXIES (none by default, cli/serve.py), so a
    client cannot choose the address its failure budget is counted against."""
    return request.client.host if request.client else "unknown"


def _credentials(request: Request, identity: IdentityService) -> Authenticated | None:
    header = request.headers.get("authorization")
    api_key = request.headers.get("x-api-key")
    if header and api_key:
        raise Unauthorized("send one credential: Authorization or X-API-Key, not both")
    if header:
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthorized("use Authorization: Bearer <API key or token>")
        return identity.authenticate_bearer(token.strip())
    if api_key:
        return identity.authenticate_key(api_key.strip())
    subject = request.scope.get(CLIENT_CERT_SUBJECT)
    if isinstance(subject, str) and subject:
        return identity.authenticate_certificate(subject)
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        return _console_session(request, identity, cookie)
    return None


def _console_session(request: Request, identity: IdentityService, token: str) -> Authenticated:
    """The console's cookie: a session JWT only (never an API key), and for a state-changing
    method the CSRF token bound to it (console/session.py)."""
    auth = identity.authenticate_bearer(token)
    if auth.method != "session":
        raise Unauthorized("the session cookie must hold a session token")
    if request.method not in SAFE_METHODS and not csrf_matches(
        token, request.headers.get(CSRF_HEADER)
    ):
        raise Forbidden("missing or wrong X-CSRF-Token for this session", code=ApiCode.CSRF_FAILED)
    return auth


def checked_locally(request: Request) -> bool:
    """Whether `enforce_access` can authenticate this request without a network call (see
    IdentityService.verifies_locally): safe to run on the event loop."""
    header = request.headers.get("authorization")
    if not header:
        return True
    _, _, token = header.partition(" ")
    identity: IdentityService = request.app.state.kernel.identity
    return identity.verifies_locally(token.strip())


def route_template(request: Request) -> str:
    """The matched route's full template, e.g. /v1/ledger/entries/{seq}.

    The route object knows its path relative to the router it was declared on; the prefixes
    of the routers it was included through are literal, so they are the leading segments
    of the concrete path.
    """
    route = request.scope.get("route")
    relative = getattr(route, "path_format", None) or getattr(route, "path", None)
    path = request.scope.get("path", "")
    if not isinstance(relative, str):
        return str(path)
    if path.startswith("/v1/") and ":path}" not in relative:
        depth = relative.count("/")
        segments = path.split("/")
        prefix = "/".join(segments[: len(segments) - depth])
        return prefix + relative
    return relative


def _throttle_failures(identity: IdentityService, client: str) -> None:
    """Brute force: once a client has spent its failure budget, refuse before checking."""
    settings = identity.settings
    rate = settings.auth_failures_per_minute / 60.0
    peek = identity.limiter.take(
        f"authfail:{client}", rate, settings.auth_failures_per_minute, cost=0
    )
    if peek.remaining < 1:
        raise RateLimited(
            "too many failed authentication attempts",
            retry_after=max(1, math.ceil((1 - peek.remaining) / rate)),
        )


def _failed(
    identity: IdentityService, request: Request, client: str, why: str, principal: Principal | None
) -> None:
    settings = identity.settings
    identity.limiter.take(
        f"authfail:{client}",
        settings.auth_failures_per_minute / 60.0,
        settings.auth_failures_per_minute,
    )
    identity.audit.record(
        "audit.auth_failure",
        tenant_id=principal.tenant_id if principal else "unknown",
        principal_id=principal.principal_id if principal else None,
        action=request.method,
        target=request.url.path,
        reason=f"{why} from {client}",
        outcome="denied",
    )


def _rate_limit(identity: IdentityService, principal: Principal) -> None:
    settings = identity.settings
    for key, rate, burst in (
        (f"principal:{principal.principal_id}", settings.rate_principal_per_second,
         settings.rate_principal_burst),
        (f"tenant:{principal.tenant_id}", settings.rate_tenant_per_second,
         settings.rate_tenant_burst),
    ):  # fmt: skip
        decision = identity.limiter.take(key, rate, burst)
        if not decision.allowed:
            raise RateLimited(
                f"rate limit exceeded for {key.split(':', 1)[0]}",
                retry_after=max(1, math.ceil(decision.retry_after)),
            )


def enforce_access(request: Request) -> None:
    """Authenticate, rate-limit, authorise (sync: runs in the thread pool beside the DB)."""
    identity = identity_of(request)
    client = _client(request)
    _throttle_failures(identity, client)
    try:
        auth = _credentials(request, identity)
    except Unauthorized as exc:
        _failed(identity, request, client, exc.detail, None)
        raise
    if auth is None:
        raise Unauthorized("credentials required: an API key, a bearer token or a client cert")
    principal = auth.principal
    kernel = getattr(request.app.state, "kernel", None)
    if kernel is not None and getattr(kernel, "mandates", None) is not None:
        verify_signed(request, kernel, principal)  # RFC 9421, when the request is signed
    request.state.principal = principal
    request.state.auth = auth
    _rate_limit(identity, principal)

    template = route_template(request)
    permission = permission_for(request.method, template)
    scope: Scope | None
    if permission is None:
        # Deny by default: an unmapped route is for platform admins only.
        scope = Scope.ALL if principal.is_platform_admin else None
        permission = "unmapped"
    elif permission == AUTHENTICATED:
        scope = Scope.OWN
    else:
        scope = grant(principal.roles, permission)
        if scope is not None and not scope_allows(auth.scopes, permission):
            scope = None
    if scope is None:
        raise Forbidden(f"{principal.name} may not {permission} here")
    request.state.scope = scope
    request.state.permission = permission

    # Continuous authentication (docs/contauth.md): a session whose trust fell below its
    # tenant's step-up threshold gives a fresh code before its next sensitive action.
    contauth = getattr(request.app.state.kernel, "contauth", None)
    session_id = str(auth.claims.get("jti")) if auth.method == "session" else None
    demanded = (
        contauth is not None
        and session_id is not None
        and permission in SENSITIVE
        and contauth.requires_step_up(session_id)
    )
    if permission in STEP_UP or demanded:
        _step_up(identity, request, client, principal, forced=demanded)
    if demanded and contauth is not None and session_id is not None:
        contauth.stepped_up(session_id, principal.principal_id)
    audited = permission in AUDITED_READS or (request.method, template) in EVIDENCE_ROUTES
    if audited and principal.is_human:
        identity.audit.record(
            "audit.access",
            tenant_id=principal.tenant_id,
            principal_id=principal.principal_id,
            action=permission,
            target=request.url.path,
            reason=request.headers.get(REASON_HEADER),
        )


def _step_up(
    identity: IdentityService,
    request: Request,
    client: str,
    principal: Principal,
    *,
    forced: bool = False,
) -> None:
    """Admin actions by humans (or by anyone enrolled in TOTP) need a fresh, unused code.

    Bad codes spend the principal's own budget as well as the client's: six digits fall to
    a guesser who spreads attempts over many addresses, so after `totp_failures_before_lock`
    bad codes the principal's step-up is locked (429 + Retry-After), whatever the address,
    until the budget refills over `totp_lock_seconds`."""
    enrolled = identity.totp.enrolled(principal.principal_id)
    if not (principal.is_human or enrolled or forced):
        return
    code = request.headers.get(TOTP_HEADER)
    if not code:
        raise Unauthorized(
            ("this session's trust fell below its step-up threshold; " if forced else "")
            + "this action needs a second factor: send X-Paygod-TOTP"
            + (
                ""
                if enrolled
                else " (enrol first with an admin's enrolment token: POST /v1/identity/me/totp)"
            ),
            code=ApiCode.STEP_UP_REQUIRED,
        )
    settings = identity.settings
    budget = f"totpfail:{principal.principal_id}"
    rate = settings.totp_failures_before_lock / settings.totp_lock_seconds
    peek = identity.limiter.take(budget, rate, settings.totp_failures_before_lock, cost=0)
    if peek.remaining < 1:
        raise RateLimited(
            "step-up locked: too many bad TOTP codes for this principal",
            retry_after=max(1, math.ceil((1 - peek.remaining) / rate)),
        )
    if not identity.totp.verify(principal.principal_id, code):
        spent = identity.limiter.take(budget, rate, settings.totp_failures_before_lock)
        why = "bad or replayed TOTP code"
        if spent.remaining < 1:
            why += f"; step-up locked for {principal.name}"
        _failed(identity, request, client, why, principal)
        raise Unauthorized("invalid or already used TOTP code", code=ApiCode.STEP_UP_FAILED)


def tenant_filter(request: Request) -> str | None:
    """The tenant to filter queries by; None for a platform admin (every tenant)."""
    principal: Principal = request.state.principal
    return None if principal.tenant_id == ALL_TENANTS else principal.tenant_id


def owner_filter(request: Request) -> str | None:
    """The owner to filter queries by: the caller's principal id when its scope for this
    route is `own` (an agent's own payments, decisions, accounts), else None (the whole
    tenant). Pass it down to the store so the filter is in the query, not after it."""
    scope = getattr(request.state, "scope", None)
    if scope is not Scope.OWN:
        return None
    principal: Principal = request.state.principal
    return principal.principal_id


def install(app: FastAPI) -> None:
    """401 responses carry WWW-Authenticate (RFC 9110 11.6.1)."""

    @app.exception_handler(Unauthorized)
    async def _unauthorized(request: Request, exc: Unauthorized) -> Response:
        response = problems.from_error(request, exc)
        response.headers["WWW-Authenticate"] = WWW_AUTHENTICATE
        return response


def client_cert_subject(transport: Any) -> str | None:
    """The RFC 4514 subject of the peer's verified client certificate, if it sent one."""
    ssl_object = transport.get_extra_info("ssl_object") if transport is not None else None
    if ssl_object is None:
        return None
    der = ssl_object.getpeercert(binary_form=True)
    if not der:
        return None
    from cryptography import x509

    return x509.load_der_x509_certificate(der).subject.rfc4514_string()


class MutualTlsProtocol(H11Protocol):
    """A uvicorn HTTP protocol that puts the client certificate's subject into each request's
    scope (`paygod.client_cert_subject`), where `enforce_access` maps it to a principal.

    uvicorn verifies the chain against --client-ca during the handshake; this class only
    reads the already-verified certificate, once per connection. Module-level so that
    `--workers N` can hand it to worker processes.
    """

    def connection_made(self, transport: Any) -> None:
        super().connection_made(transport)
        subject = client_cert_subject(transport)
        if subject is not None:
            app = self.app

            async def with_subject(scope: Any, receive: Any, send: Any) -> None:
                scope[CLIENT_CERT_SUBJECT] = subject
                await app(scope, receive, send)

            self.app = with_subject


def mtls_protocol() -> type[Any]:
    return MutualTlsProtocol
