"""OIDC access tokens verified against a real JWKS endpoint served over HTTP in the test."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from paygod.identity import tokens
from paygod.identity.model import PrincipalKind, Role
from paygod.identity.service import IdentityService
from paygod.identity.settings import IdentitySettings
from paygod.kernel.clock import SystemClock
from paygod.kernel.database import SqliteDatabase, migrate
from paygod.kernel.errors import Unauthorized

ISSUER = "https://idp.example.test/"
AUDIENCE = "paygod-api"


class Issuer:
    """A tiny identity provider: signing keys and the JWKS document that publishes them."""

    def __init__(self) -> None:
        self.keys: dict[str, rsa.RSAPrivateKey] = {}
        self.requests = 0
        self.rotate()

    def rotate(self) -> str:
        kid = f"k{len(self.keys) + 1}"
        self.keys = {kid: rsa.generate_private_key(public_exponent=65537, key_size=2048)}
        self.kid = kid
        return kid

    def jwks(self) -> dict[str, Any]:
        published = []
        for kid, key in self.keys.items():
            jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
            published.append({**jwk, "kid": kid, "use": "sig", "alg": "RS256"})
        return {"keys": published}

    def token(self, **overrides: Any) -> str:
        now = int(time.time())
        claims = {"iss": ISSUER, "aud": AUDIENCE, "sub": "user-42", "iat": now, "exp": now + 300}
        claims.update(overrides)
        claims = {k: v for k, v in claims.items() if v is not None}
        return jwt.encode(claims, self.keys[self.kid], algorithm="RS256", headers={"kid": self.kid})


@pytest.fixture
def issuer() -> Iterator[tuple[Issuer, str]]:
    idp = Issuer()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            idp.requests += 1
            body = json.dumps(idp.jwks()).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield idp, f"http://127.0.0.1:{server.server_address[1]}/jwks.json"
    finally:
        server.shutdown()


@pytest.fixture
def identity(issuer: tuple[Issuer, str], tmp_path: Path) -> Iterator[IdentityService]:
    db = SqliteDatabase(tmp_path / "paygod.db")
    migrate(db)
    settings = IdentitySettings(
        oidc_issuer=ISSUER,
        oidc_audience=AUDIENCE,
        oidc_jwks_url=issuer[1],
        token_leeway_seconds=30,
    )
    service = IdentityService(db, SystemClock(), settings=settings)
    service.create_principal(
        "acme", "ann", PrincipalKind.HUMAN, {Role.AUDITOR}, external_id="oidc:user-42"
    )
    yield service
    db.close()


def test_valid_token_maps_to_its_principal_and_jwks_is_cached(
    identity: IdentityService, issuer: tuple[Issuer, str]
) -> None:
    idp, _ = issuer
    for _ in range(3):
        auth = identity.authenticate_bearer(idp.token())
        assert auth.method == "oidc" and auth.principal.name == "ann"
    assert idp.requests == 1


TIME_CLAIMS = {"exp", "nbf", "iat"}


@pytest.mark.parametrize(
    ("claims", "message"),
    [
        ({"aud": "someone-else"}, "(?i)audience"),
        ({"exp": -120}, "expired"),  # time claims: seconds from now, resolved at run time
        ({"nbf": +120}, "not yet valid"),
        ({"exp": None}, "exp"),
        ({"sub": "stranger"}, "no active principal"),
    ],
)
def test_bad_claims_are_refused(
    identity: IdentityService, issuer: tuple[Issuer, str], claims: dict[str, Any], message: str
) -> None:
    now = int(time.time())
    resolved = {
        k: (now + v if k in TIME_CLAIMS and isinstance(v, int) else v) for k, v in claims.items()
    }
    with pytest.raises(Unauthorized, match=message):
        identity.authenticate_bearer(issuer[0].token(**resolved))


def test_clock_skew_within_leeway_is_tolerated(
    identity: IdentityService, issuer: tuple[Issuer, str]
) -> None:
    idp, _ = issuer
    assert identity.authenticate_bearer(idp.token(exp=int(time.time()) - 10)).method == "oidc"
    assert identity.authenticate_bearer(idp.token(nbf=int(time.time()) + 10)).method == "oidc"


def test_other_issuer_and_forged_signature_are_refused(
    identity: IdentityService, issuer: tuple[Issuer, str]
) -> None:
    idp, _ = issuer
    with pytest.raises(Unauthorized, match="unrecognised"):
        identity.authenticate_bearer(idp.token(iss="https://evil.example/"))
    genuine = idp.token()
    header, _payload, signature = genuine.split(".")
    tampered_payload = jwt.utils.base64url_encode(
        json.dumps(
            {**jwt.decode(genuine, options={"verify_signature": False}), "sub": "x"}
        ).encode()
    ).decode()
    with pytest.raises(Unauthorized):
        identity.authenticate_bearer(f"{header}.{tampered_payload}.{signature}")
    hs = jwt.encode({"iss": ISSUER, "aud": AUDIENCE, "sub": "user-42", "exp": 2**31}, "k" * 32)
    with pytest.raises(Unauthorized, match="algorithm"):
        identity.authenticate_bearer(hs)


def test_key_rotation_is_picked_up(
    identity: IdentityService, issuer: tuple[Issuer, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tokens, "REFETCH_MIN_INTERVAL", 0.0)
    idp, _ = issuer
    identity.authenticate_bearer(idp.token())
    idp.rotate()
    assert identity.authenticate_bearer(idp.token()).principal.name == "ann"
    assert idp.requests == 2  # one refetch for the unknown kid, not one per request


def test_only_an_oidc_token_may_need_the_network_to_verify(
    identity: IdentityService, issuer: tuple[Issuer, str]
) -> None:
    # The hot path runs authentication on the event loop only when it needs no network
    # call (api/hotpath.py); an OIDC token may need the issuer's JWKS fetched.
    idp, _ = issuer
    assert identity.verifies_locally(idp.token()) is False
    agent = identity.create_principal("acme", "bot", PrincipalKind.AGENT, {Role.AGENT})
    key = identity.issue_key(agent.principal_id).token
    assert identity.verifies_locally(key) is True
    assert identity.verifies_locally("not-a-token") is True  # refused locally, at once
    assert idp.requests == 0  # deciding where to verify fetched nothing
