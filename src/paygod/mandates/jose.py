"""JWS verification over JWKs (PyJWT does the signature maths), base64url helpers, and
RFC 7638 thumbprints.

The algorithm is chosen from the *key*, never from the token's header: a token that
names another algorithm than its key's is refused (the classic `alg` confusion).
Supported: ES256 (EC P-256) and EdDSA (Ed25519), the two AP2 and RFC 9421 profiles use.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import json
from collections.abc import Mapping
from typing import Any

import jwt
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from paygod.canonical import canonicalize
from paygod.mandates.errors import Reason


class VerificationFailed(Exception):
    """A credential, signature or binding does not hold. `reason` is a stable word."""

    def __init__(self, reason: Reason, detail: str, pointer: str = "") -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail
        self.pointer = pointer


def b64url_decode(text: str) -> bytes:
    if not isinstance(text, str) or "=" in text:
        raise VerificationFailed("malformed", "base64url without padding expected")
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise VerificationFailed("malformed", "not base64url") from None


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def sha256_b64url(text: str) -> str:
    """RFC 9901 §4.2.3: the digest is over the ASCII bytes of the encoded string."""
    return b64url(hashlib.sha256(text.encode("ascii")).digest())


def json_object(segment: str, what: str) -> dict[str, Any]:
    try:
        value = json.loads(b64url_decode(segment))
    except (ValueError, UnicodeDecodeError):
        raise VerificationFailed("malformed", f"{what} is not JSON") from None
    if not isinstance(value, dict):
        raise VerificationFailed("malformed", f"{what} is not a JSON object")
    return value


def public_jwk(jwk: Any) -> dict[str, str]:
    """The public members of a P-256 or Ed25519 JWK; anything else is refused."""
    if not isinstance(jwk, Mapping):
        raise VerificationFailed("key", "a JWK is a JSON object")
    if "d" in jwk:
        raise VerificationFailed("key", "a private key was given where a public one belongs")
    names: tuple[str, ...]
    if jwk.get("kty") == "EC" and jwk.get("crv") == "P-256":
        names = ("kty", "crv", "x", "y")
    elif jwk.get("kty") == "OKP" and jwk.get("crv") == "Ed25519":
        names = ("kty", "crv", "x")
    else:
        raise VerificationFailed("key", "only EC P-256 and OKP Ed25519 keys are accepted")
    if not all(isinstance(jwk.get(n), str) for n in names):
        raise VerificationFailed("key", "the JWK misses its coordinates")
    out = {n: str(jwk[n]) for n in names}
    _key_and_alg(out)  # refuses points not on the curve
    return out


def _key_and_alg(jwk: Mapping[str, str]) -> tuple[Any, str]:
    return _parsed(tuple(sorted(jwk.items())))


@functools.lru_cache(maxsize=4096)
def _parsed(items: tuple[tuple[str, str], ...]) -> tuple[Any, str]:
    """A JWK's key object, parsed once: keys are immutable, and parsing costs more than
    verifying."""
    try:
        key = jwt.PyJWK(dict(items)).key
    except (jwt.PyJWKError, ValueError, TypeError):
        raise VerificationFailed("key", "the JWK is not a valid public key") from None
    if isinstance(key, ec.EllipticCurvePublicKey):
        return key, "ES256"
    if isinstance(key, ed25519.Ed25519PublicKey):
        return key, "EdDSA"
    raise VerificationFailed("key", "unsupported key type")  # pragma: no cover


def thumbprint(jwk: Mapping[str, str]) -> str:
    """RFC 7638 JWK thumbprint (SHA-256 of the required members, canonical JSON)."""
    return b64url(hashlib.sha256(canonicalize(dict(public_jwk(jwk)))).digest())


def verify_jws(compact: str, jwk: Mapping[str, str]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(header, payload) of a compact JWS signed by `jwk`; VerificationFailed otherwise.

    RFC 7515 §5.2 with the signature checked by `cryptography` directly (RFC 7518 §3.4:
    ES256 is r||s, 64 octets; RFC 8037: EdDSA over Ed25519): PyJWT's segment decoding
    walks every character in Python, which cost more than the signature itself."""
    parts = compact.split(".") if isinstance(compact, str) else []
    if len(parts) != 3:
        raise VerificationFailed("malformed", "a JWS has three dot-separated parts")
    header = json_object(parts[0], "the JWS header")
    key, alg = _key_and_alg(jwk)
    if header.get("alg") != alg:
        raise VerificationFailed("signature", f"the token says alg {header.get('alg')!r}")
    if "crit" in header:  # RFC 7515 §4.1.11: we understand no extension, so refuse
        raise VerificationFailed("malformed", "critical header parameters are not supported")
    signature = b64url_decode(parts[2])
    signing_input = f"{parts[0]}.{parts[1]}".encode("ascii")
    try:
        if alg == "EdDSA":
            key.verify(signature, signing_input)
        else:
            if len(signature) != 64:
                raise InvalidSignature
            r, s = int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
            key.verify(encode_dss_signature(r, s), signing_input, ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        raise VerificationFailed("signature", "the signature does not verify") from None
    return header, json_object(parts[1], "the JWS payload")


def sign_jws(payload: Mapping[str, Any], private_key: Any, header: Mapping[str, Any]) -> str:
    """For tests, fixtures and the CLI's `grant --sign-with`: a compact JWS."""
    alg = "EdDSA" if isinstance(private_key, ed25519.Ed25519PrivateKey) else "ES256"
    return jwt.api_jws.encode(
        json.dumps(dict(payload), separators=(",", ":")).encode(),
        private_key,
        algorithm=alg,
        headers=dict(header),
    )


def jwk_of(public_key: Any) -> dict[str, str]:
    """The JWK of a cryptography public key (P-256 or Ed25519)."""
    from jwt.algorithms import ECAlgorithm, OKPAlgorithm

    if isinstance(public_key, ed25519.Ed25519PublicKey):
        raw = OKPAlgorithm.to_jwk(public_key, as_dict=True)
    else:
        raw = ECAlgorithm.to_jwk(public_key, as_dict=True)
    return public_jwk(raw)
