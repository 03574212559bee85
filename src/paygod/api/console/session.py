"""The console's browser session: a cookie holding the kernel's own session JWT, and the
CSRF token bound to it.

The cookie is the existing session JWT (identity/tokens.py), so a console request is
authenticated and authorised by the same `enforce_access` as any API call. Because a
browser sends cookies on its own, every state-changing request that authenticates by the
cookie must also prove it was made by the console's pages: the `X-CSRF-Token` header (or
the `csrf_token` form field) must equal a token derived from the session, which a page of
another origin can neither read (the cookie is HttpOnly, SameSite=Strict) nor compute.

Imports nothing above the standard library: `api.security` and `console.pages` use it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

SESSION_COOKIE = "paygod_session"
# Before sign-in there is no session: the sign-in form is guarded by a random value kept
# in its own cookie and echoed in the form (double submit), so another site cannot sign
# a browser in to an account of its choosing (login CSRF).
SIGN_IN_COOKIE = "paygod_signin"
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf_token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_LABEL = b"paygod-console-csrf-v1"


def csrf_token(session_token: str) -> str:
    """The CSRF token of a session: an HMAC keyed by the (secret, HttpOnly) session token."""
    digest = hmac.new(session_token.encode(), _LABEL, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def csrf_matches(session_token: str, presented: str | None) -> bool:
    return bool(presented) and hmac.compare_digest(csrf_token(session_token), presented or "")


def new_sign_in_nonce() -> str:
    return secrets.token_urlsafe(32)


def cookie_attributes(max_age: int, secure: bool) -> dict[str, object]:
    """HttpOnly (no script reads it), SameSite=Strict (no other site sends it), Secure
    over HTTPS, and an expiry no later than the JWT's own."""
    return {
        "max_age": max_age,
        "httponly": True,
        "samesite": "strict",
        "secure": secure,
        "path": "/",
    }
