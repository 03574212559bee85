"""Bearer tokens: Paygod's own EdDSA session JWTs, and external OIDC access tokens (JWKS).

OIDC keys are cached for `oidc_jwks_cache_seconds`; an unknown `kid` (the issuer rotated
its keys) triggers one refetch, at most every few seconds, so a flood of forged kids
cannot turn into a flood of JWKS requests.
"""

from __future__ import annotations

import contextlib
import threading
import time
from datetime import UTC, datetime
from typing import Any

import httpx
import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from paygod.identity.model import Principal, SigningKey
from paygod.identity.ports import DuplicateKey, SigningKeyStore
from paygod.identity.sealing import SecretBox, is_sealed
from paygod.identity.settings import IdentitySettings
from paygod.kernel.clock import Clock, isoformat
from paygod.kernel.errors import Unauthorized, Unavailable
from paygod.kernel.record_ids import new_id

SESSION_ISSUER = "paygod"
SESSION_AUDIENCE = "paygod-api"
OIDC_ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "ES256", "ES384", "EdDSA"]
REFETCH_MIN_INTERVAL = 5.0
# exp/nbf/iat are checked against the kernel clock (PAYGOD_CLOCK honoured), not PyJWT's.


def _context(key_id: str) -> str:
    return f"identity_signing_keys:{key_id}"


def check_times(claims: dict[str, Any], now: float, leeway: int) -> None:
    """exp and nbf, with a bounded skew allowance (RFC 7519 4.1.4, 4.1.5)."""
    for name in ("exp", "nbf", "iat"):
        if name in claims and not isinstance(claims[name], int | float):
            raise Unauthorized(f"invalid token: {name} is not a number")
    if now >= float(claims["exp"]) + leeway:
        raise Unauthorized("token expired")
    if "nbf" in claims and now < float(claims["nbf"]) - leeway:
        raise Unauthorized("token not yet valid")


class SessionTokens:
    """Paygod's own session JWTs. The Ed25519 signing key is shared by every process through
    `identity_signing_keys`, sealed under the key-encryption key (`sealing.py`): reading the
    database is not enough to forge a session."""

    def __init__(
        self, store: SigningKeyStore, clock: Clock, settings: IdentitySettings, box: SecretBox
    ) -> None:
        self.store = store
        self.clock = clock
        self.settings = settings
        self.box = box
        self._key: tuple[str, Ed25519PrivateKey] | None = None
        self._lock = threading.Lock()

    def seal_plaintext_rows(self) -> int:
        """Stores written before keys were sealed: seal them in place (idempotent)."""
        sealed = 0
        for key in self.store.signing_keys():
            pem = key.private_pem
            if not is_sealed(pem):
                sealed += self.store.replace_signing_pem(
                    key.key_id, pem, self.box.seal(pem, _context(key.key_id))
                )
        return sealed

    def _signing_key(self) -> tuple[str, Ed25519PrivateKey]:
        if self._key is not None:
            return self._key
        with self._lock:
            if self._key is None:
                self._key = self._newest() or self._create()
            return self._key

    def _newest(self) -> tuple[str, Ed25519PrivateKey] | None:
        row = self.store.newest_signing_key()
        if row is None:
            return None
        pem = self.box.open(row.private_pem, _context(row.key_id))
        loaded = serialization.load_pem_private_key(pem.encode(), None)
        assert isinstance(loaded, Ed25519PrivateKey)
        return row.key_id, loaded

    def _create(self) -> tuple[str, Ed25519PrivateKey]:
        private = Ed25519PrivateKey.generate()
        pem = private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode()
        key_id = new_id()
        sealed = self.box.seal(pem, _context(key_id))
        with contextlib.suppress(DuplicateKey):
            self.store.add_signing_key(SigningKey(key_id, sealed, self.clock.now()))
        found = self._newest()  # another process may have created one meanwhile
        assert found is not None
        return found

    def issue(
        self,
        principal: Principal,
        ends: datetime,
        *,
        scopes: tuple[str, ...] = (),
        key_id: str | None = None,
    ) -> dict[str, Any]:
        """A JWT ending at `ends` (already capped by the caller's credential), carrying the
        credential's scopes (`scp`) and the API key behind it (`key`, checked on each use)."""
        kid, key = self._signing_key()
        now = self.clock.now()
        claims: dict[str, Any] = {
            "iss": SESSION_ISSUER,
            "aud": SESSION_AUDIENCE,
            "sub": principal.principal_id,
            "tid": principal.tenant_id,
            "iat": int(now.timestamp()),
            "nbf": int(now.timestamp()),
            "exp": int(ends.timestamp()),
            "jti": new_id(),
            "scp": list(scopes),
        }
        if key_id is not None:
            claims["key"] = key_id
        token = jwt.encode(claims, key, algorithm="EdDSA", headers={"kid": kid})
        return {
            "access_token": token,
            "token_type": "Bearer",
            "expires_in": max(0, int(ends.timestamp()) - int(now.timestamp())),
            "expires_at": isoformat(datetime.fromtimestamp(int(ends.timestamp()), tz=UTC)),
            "scopes": list(scopes),
            "session_id": claims["jti"],
        }

    def verify(self, token: str) -> dict[str, Any]:
        _, key = self._signing_key()
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key.public_key(),
                algorithms=["EdDSA"],
                audience=SESSION_AUDIENCE,
                issuer=SESSION_ISSUER,
                options={
                    "require": ["exp", "nbf", "sub", "iss", "aud"],
                    "verify_exp": False,
                    "verify_nbf": False,
                    "verify_iat": False,
                },
            )
        except jwt.PyJWTError as exc:
            raise Unauthorized(f"invalid session token: {exc}") from None
        check_times(claims, self.clock.now().timestamp(), self.settings.token_leeway_seconds)
        return claims


class JwksCache:
    """An issuer's signing keys by kid, refetched on expiry or on an unknown kid."""

    def __init__(self, url: str, ttl_seconds: float) -> None:
        self.url = url
        self.ttl = ttl_seconds
        self._keys: dict[str, jwt.PyJWK] = {}
        self._fetched_at = float("-inf")
        self._lock = threading.Lock()

    def key(self, kid: str | None) -> jwt.PyJWK:
        now = time.monotonic()
        with self._lock:
            if now - self._fetched_at > self.ttl:
                self._fetch(now)
            found = self._lookup(kid)
            if found is None and now - self._fetched_at >= REFETCH_MIN_INTERVAL:
                self._fetch(now)  # the issuer may have rotated its keys
                found = self._lookup(kid)
        if found is None:
            raise Unauthorized("token signed by an unknown key")
        return found

    def _lookup(self, kid: str | None) -> jwt.PyJWK | None:
        if kid is None:
            return next(iter(self._keys.values())) if len(self._keys) == 1 else None
        return self._keys.get(kid)

    def _fetch(self, now: float) -> None:
        try:
            response = httpx.get(self.url, timeout=3.0)
            response.raise_for_status()
            document = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            if self._keys:
                return  # keep serving known keys while the issuer hiccups
            raise Unavailable(f"cannot fetch JWKS from {self.url}: {exc}", retry_after=5) from None
        keys: dict[str, jwt.PyJWK] = {}
        for i, jwk in enumerate(document.get("keys", [])):
            if jwk.get("use", "sig") != "sig":
                continue
            try:
                keys[str(jwk.get("kid", i))] = jwt.PyJWK(jwk)
            except jwt.PyJWTError:
                continue  # an algorithm we do not support; other keys may still serve
        self._keys = keys
        self._fetched_at = now


class OidcVerifier:
    def __init__(self, settings: IdentitySettings, clock: Clock) -> None:
        self.clock = clock
        if not (settings.oidc_issuer and settings.oidc_audience and settings.oidc_jwks_url):
            raise ValueError("OIDC needs issuer, audience and JWKS URL")
        self.issuer: str = settings.oidc_issuer
        self.audience: str = settings.oidc_audience
        self.leeway = settings.token_leeway_seconds
        self.jwks = JwksCache(settings.oidc_jwks_url, settings.oidc_jwks_cache_seconds)

    def verify(self, token: str) -> dict[str, Any]:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise Unauthorized(f"invalid token: {exc}") from None
        algorithm = header.get("alg")
        if algorithm not in OIDC_ALGORITHMS:
            raise Unauthorized(f"token algorithm {algorithm!r} not accepted")
        key = self.jwks.key(header.get("kid"))
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key,
                algorithms=[algorithm],
                audience=self.audience,
                issuer=self.issuer,
                options={
                    "require": ["exp", "iss", "aud", "sub"],
                    "verify_exp": False,
                    "verify_nbf": False,
                    "verify_iat": False,
                },
            )
        except jwt.PyJWTError as exc:
            raise Unauthorized(f"invalid OIDC token: {exc}") from None
        check_times(claims, self.clock.now().timestamp(), self.leeway)
        return claims


def unverified_issuer(token: str) -> str | None:
    try:
        claims = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError:
        return None
    issuer = claims.get("iss")
    return issuer if isinstance(issuer, str) else None
