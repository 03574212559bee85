"""The console's HTML routes: sign-in and sign-out, and one page shell per view.

A page shell names the signed-in principal, links the views its roles can use (the same
`grant` over the same permission table; a convenience only, the API refuses the rest) and
loads the view's module, which fetches its data from /v1.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.concurrency import run_in_threadpool
from starlette.staticfiles import StaticFiles

from paygod.api.console.session import (
    SESSION_COOKIE,
    SIGN_IN_COOKIE,
    cookie_attributes,
    csrf_matches,
    csrf_token,
    new_sign_in_nonce,
)
from paygod.api.security import _failed, _throttle_failures, identity_of
from paygod.identity.model import Authenticated
from paygod.identity.permissions import grant
from paygod.kernel.errors import PaygodError, Unauthorized

HERE = Path(__file__).parent
FIELD_LIMIT = 4096
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}

# (view, path, title, the permission its main API call needs)
VIEWS: tuple[tuple[str, str, str, str], ...] = (
    ("overview", "/console/", "Overview", "executor:read"),
    ("decisions", "/console/decisions", "Decisions", "decisions:read"),
    ("ledger", "/console/ledger", "Ledger", "ledger:read"),
    ("payments", "/console/payments", "Payments", "payments:read"),
    ("accounts", "/console/accounts", "Accounts", "accounts:read"),
    ("cases", "/console/cases", "Cases", "cases:read"),
    ("packs", "/console/packs", "Packs", "packs:read"),
    ("access-log", "/console/access-log", "Access log", "audit:read"),
)

# (view, path, title) of the views of one object, reached from a row of a list view
DETAILS: tuple[tuple[str, str, str], ...] = (
    ("decision", "/console/decisions/{decision_id}", "Decision"),
    ("entry", "/console/ledger/{seq}", "Ledger entry"),
    ("payment", "/console/payments/{payment_id}", "Payment"),
    ("case", "/console/cases/{case_id}", "Case"),
    ("pack", "/console/packs/{name}", "Pack"),
)

# Writes a page offers only to those whose roles hold the permission (the API decides; a
# button it would refuse anyway is noise). Rendered as `data-can` on <main>.
ABILITIES = ("cases:write", "packs:activate", "payments:approve", "panic:write")

templates = Environment(
    loader=FileSystemLoader(HERE / "templates"),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)
router = APIRouter(include_in_schema=False)


def _html(body: str, status_code: int = 200) -> HTMLResponse:
    return HTMLResponse(body, status_code=status_code, headers=SECURITY_HEADERS)


def _redirect(to: str) -> RedirectResponse:
    return RedirectResponse(to, status_code=303, headers=SECURITY_HEADERS)


def _session(request: Request) -> tuple[Authenticated, str] | None:
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    try:
        auth = identity_of(request).authenticate_bearer(token)
    except PaygodError:
        return None
    return (auth, token) if auth.method == "session" else None


def _views(auth: Authenticated) -> list[dict[str, str]]:
    roles = auth.principal.roles
    return [
        {"view": v, "href": href, "title": title}
        for v, href, title, permission in VIEWS
        if auth.principal.is_platform_admin or grant(roles, permission) is not None
    ]


def _abilities(auth: Authenticated) -> str:
    principal = auth.principal
    return " ".join(
        p for p in ABILITIES if principal.is_platform_admin or grant(principal.roles, p) is not None
    )


def _page(request: Request, view: str, title: str, **params: Any) -> Response:
    found = _session(request)
    if found is None:
        return _redirect("/console/sign-in?next=" + quote(request.url.path))
    auth, token = found
    principal = auth.principal
    body = templates.get_template("page.html").render(
        view=view,
        title=title,
        views=_views(auth),
        principal=principal,
        roles=sorted(r.value for r in principal.roles),
        csrf=csrf_token(token),
        params={**params, "can": _abilities(auth)},
    )
    return _html(body)


def _sign_in_form(request: Request, error: str | None = None, status_code: int = 200) -> Response:
    nonce = new_sign_in_nonce()
    body = templates.get_template("sign_in.html").render(
        csrf=nonce,
        error=error,
        next=_safe_next(request.query_params.get("next")),
        expired=request.query_params.get("expired") == "1",
    )
    response = _html(body, status_code)
    secure = request.url.scheme == "https"
    response.set_cookie(SIGN_IN_COOKIE, nonce, **cookie_attributes(600, secure))  # type: ignore[arg-type]
    return response


def _safe_next(value: str | None) -> str:
    """Only a console path: never an open redirect to another site."""
    if value and value.startswith("/console/") and "//" not in value and "\\" not in value:
        return value
    return "/console/"


@router.get("/")
def root(request: Request) -> Response:
    found = _session(request)
    if found is None:
        return _redirect("/console/sign-in")
    views = _views(found[0])
    return _redirect(views[0]["href"] if views else "/console/sign-in")


@router.get("/console/sign-in")
def sign_in_page(request: Request) -> Response:
    return _sign_in_form(request)


async def _form(request: Request) -> dict[str, str]:
    """An application/x-www-form-urlencoded body (the only kind these forms send), first
    value of each field; the edge middleware has already bounded its size."""
    if not request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        return {}
    fields = parse_qs((await request.body()).decode("utf-8", "replace"), max_num_fields=20)
    return {k: v[0][:FIELD_LIMIT] for k, v in fields.items() if v}


@router.post("/console/sign-in")
async def sign_in(request: Request) -> Response:
    form = await _form(request)
    return await run_in_threadpool(
        _sign_in,
        request,
        form.get("credential", ""),
        form.get("csrf_token", ""),
        form.get("next", "/console/"),
    )


def _sign_in(request: Request, credential: str, csrf_token_field: str, next_path: str) -> Response:
    expected = request.cookies.get(SIGN_IN_COOKIE)
    if not expected or not csrf_token_field or expected != csrf_token_field:
        return _sign_in_form(request, "The form expired or came from elsewhere; try again.", 403)
    identity = identity_of(request)
    client = request.client.host if request.client else "unknown"
    _throttle_failures(identity, client)
    try:
        auth = identity.authenticate_bearer(credential.strip())
    except Unauthorized as exc:
        _failed(identity, request, client, exc.detail, None)
        return _sign_in_form(request, "That key or token was not accepted.", 401)
    if auth.scopes and "*" not in auth.scopes:
        # A session carries the principal's roles, not the key's narrower scopes.
        return _sign_in_form(request, "A key limited to scopes cannot open a console session.", 403)
    issued = identity.issue_session(auth)
    identity.audit.record(
        "audit.access",
        tenant_id=auth.principal.tenant_id,
        principal_id=auth.principal.principal_id,
        action="console:sign-in",
        target="/console/sign-in",
        reason=f"signed in with {auth.method}",
    )
    response = _redirect(_safe_next(next_path))
    secure = request.url.scheme == "https"
    response.set_cookie(
        SESSION_COOKIE,
        issued["access_token"],
        **cookie_attributes(int(issued["expires_in"]), secure),  # type: ignore[arg-type]
    )
    response.delete_cookie(SIGN_IN_COOKIE, path="/")
    return response


@router.post("/console/sign-out")
async def sign_out(request: Request) -> Response:
    csrf_token_field = (await _form(request)).get("csrf_token", "")
    token = request.cookies.get(SESSION_COOKIE)
    if token and not csrf_matches(token, csrf_token_field):
        return _html("<!doctype html><title>Refused</title><p>Missing CSRF token.</p>", 403)
    response = _redirect("/console/sign-in")
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict")
    return response


def _shell(view: str, title: str) -> Callable[[Request], Response]:
    """The route of one view: its path's parameters, if any, reach the view's module."""

    def page(request: Request) -> Response:
        return _page(request, view, title, **request.path_params)

    page.__name__ = f"{view.replace('-', '_')}_page"
    return page


for _view, _path, _title in [(v, path, title) for v, path, title, _ in VIEWS] + list(DETAILS):
    router.add_api_route(_path, _shell(_view, _title), methods=["GET"])


def install(app: Any) -> None:
    app.include_router(router)
    app.mount("/console/static", StaticFiles(directory=HERE / "static"), name="console-static")
