"""RFC 9421 HTTP Message Signatures: the signature base, and verification of an agent's
signed request against its registered key, with a nonce store against replay.

Supported: the derived components of §2.2 (@method, @target-uri, @authority, @scheme,
@request-target, @path, @query, @status), header fields by lowercased name (§2.1; several
field lines joined with ", "), `content-digest` checked against the body (RFC 9530: sha-256
or sha-512), the algorithms `ed25519` (§3.3.6) and `ecdsa-p256-sha256` (§3.3.4: the
signature is r||s, 64 octets). Component parameters (`sf`, `key`, `bs`, `req`, `name`) are
refused rather than half-implemented.

Policy (what a Paygod agent request must carry, beyond the RFC's syntax): `created`,
`expires` no later than `max_age` after it, `keyid`, `nonce`, and coverage of @method,
@authority, @path or @target-uri, and content-digest when there is a body. The public
reference verifier accepts a replay inside the window; here the nonce is claimed in a
`NonceStore` until `expires`, so the second use is refused.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlsplit

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from http_sfv.dictionary import Dictionary
from http_sfv.item import InnerList

from paygod.mandates.jose import VerificationFailed

DERIVED = {
    "@method",
    "@target-uri",
    "@authority",
    "@scheme",
    "@request-target",
    "@path",
    "@query",
    "@status",
}
REQUIRED = ("@method", "@authority")
TARGETS = ("@path", "@target-uri")
ALGORITHMS = {"ed25519", "ecdsa-p256-sha256"}


@dataclass(frozen=True)
class HttpMessage:
    method: str
    target_uri: str  # the full URI as the client sent it: https://host/path?query
    headers: Sequence[tuple[str, str]]
    body: bytes = b""
    status: int | None = None  # responses only

    def field(self, name: str) -> str | None:
        values = [v.strip() for k, v in self.headers if k.lower() == name]
        return ", ".join(values) if values else None


class NonceStore(Protocol):
    def claim(self, scope: str, nonce: str, expires_at: int, now: int) -> bool:
        """True if `nonce` was unseen in `scope` (and is now held until `expires_at`);
        False if it was already claimed and has not expired: a replay."""
        ...


@dataclass(frozen=True)
class Verified:
    label: str
    keyid: str
    created: int
    expires: int | None
    nonce: str | None
    components: tuple[str, ...]


def _component(message: HttpMessage, name: str) -> str:
    if name not in DERIVED:
        value = message.field(name)
        if value is None:
            raise VerificationFailed("httpsig", f"covered field {name!r} is absent")
        return value
    parts = urlsplit(message.target_uri)
    if name == "@method":
        return message.method.upper()
    if name == "@target-uri":
        return message.target_uri
    if name == "@authority":
        return (parts.netloc or "").lower()
    if name == "@scheme":
        return parts.scheme.lower()
    if name == "@path":
        return parts.path or "/"
    if name == "@query":
        return "?" + parts.query
    if name == "@request-target":
        return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    if message.status is None:
        raise VerificationFailed("httpsig", "@status is only for responses")
    return str(message.status)


def signature_base(message: HttpMessage, params: InnerList) -> bytes:
    """§2.5: one line per covered component, then @signature-params."""
    lines: list[str] = []
    seen: set[str] = set()
    for item in params:
        name = item.value
        if not isinstance(name, str) or item.params:
            raise VerificationFailed("httpsig", "component parameters are not supported")
        if name != name.lower() or name in seen:
            raise VerificationFailed("httpsig", f"component {name!r} is invalid or repeated")
        seen.add(name)
        lines.append(f'"{name}": {_component(message, name)}')
    lines.append(f'"@signature-params": {params}')
    return "\n".join(lines).encode()


def _verify_raw(alg: str, public_key: Any, signature: bytes, base: bytes) -> None:
    try:
        if alg == "ed25519" and isinstance(public_key, ed25519.Ed25519PublicKey):
            public_key.verify(signature, base)
            return
        if alg == "ecdsa-p256-sha256" and isinstance(public_key, ec.EllipticCurvePublicKey):
            if len(signature) != 64:
                raise InvalidSignature
            r, s = int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
            public_key.verify(encode_dss_signature(r, s), base, ec.ECDSA(hashes.SHA256()))
            return
    except InvalidSignature:
        raise VerificationFailed(
            "signature", "the HTTP message signature does not verify"
        ) from None
    raise VerificationFailed("httpsig", f"algorithm {alg} does not fit the key")


def algorithm_of(public_key: Any) -> str:
    return "ed25519" if isinstance(public_key, ed25519.Ed25519PublicKey) else "ecdsa-p256-sha256"


def _parse(message: HttpMessage, label: str | None) -> tuple[str, InnerList, bytes]:
    raw_input, raw_signature = message.field("signature-input"), message.field("signature")
    if raw_input is None or raw_signature is None:
        raise VerificationFailed("httpsig", "Signature-Input and Signature are required")
    inputs, signatures = Dictionary(), Dictionary()
    try:
        inputs.parse(raw_input.encode())
        signatures.parse(raw_signature.encode())
    except ValueError:
        raise VerificationFailed("httpsig", "malformed signature fields") from None
    if label is None:
        if len(inputs) != 1:
            raise VerificationFailed("httpsig", "name the signature label to verify")
        label = next(iter(inputs))
    params, signature = inputs.get(label), signatures.get(label)
    if not isinstance(params, InnerList) or signature is None:
        raise VerificationFailed("httpsig", f"no signature labelled {label!r}")
    if not isinstance(signature.value, bytes):
        raise VerificationFailed("httpsig", "the signature is a byte sequence")
    return label, params, signature.value


def verify_message(
    message: HttpMessage,
    key_for: Callable[[str], Any | None],
    *,
    now: int | None = None,
    label: str | None = None,
    policy: bool = True,
    max_age: int = 300,
    skew: int = 30,
) -> Verified:
    """Check the signature (and, with `policy`, Paygod's freshness and coverage rules).
    `policy=False` checks the RFC's own test vectors, which predate any clock."""
    label, params, signature = _parse(message, label)
    p = params.params
    keyid, created, expires, nonce = (
        p.get("keyid"),
        p.get("created"),
        p.get("expires"),
        p.get("nonce"),
    )
    if not isinstance(keyid, str):
        raise VerificationFailed("httpsig", "keyid is required")
    public_key = key_for(keyid)
    if public_key is None:
        raise VerificationFailed("signer", f"keyid {keyid!r} is not a registered key")
    alg = p.get("alg") or algorithm_of(public_key)
    if alg not in ALGORITHMS:
        raise VerificationFailed("httpsig", f"algorithm {alg!r} is not accepted")
    components = tuple(str(i.value) for i in params)
    _verify_raw(str(alg), public_key, signature, signature_base(message, params))
    if policy:
        _policy(message, components, created, expires, nonce, now, max_age, skew)
    return Verified(label, keyid, int(created or 0), expires, nonce, components)


def _policy(
    message: HttpMessage,
    components: tuple[str, ...],
    created: Any,
    expires: Any,
    nonce: Any,
    now: int | None,
    max_age: int,
    skew: int,
) -> None:
    assert now is not None
    if type(created) is not int or type(expires) is not int:
        raise VerificationFailed("httpsig", "created and expires are required")
    if created > now + skew:
        raise VerificationFailed("not-yet-valid", "the signature is created in the future")
    if expires <= created or expires - created > max_age:
        raise VerificationFailed("httpsig", f"expires must be within {max_age}s of created")
    if now > expires + skew:
        raise VerificationFailed("expired", "the signature has expired")
    if not isinstance(nonce, str) or not 8 <= len(nonce) <= 128:
        raise VerificationFailed("httpsig", "a nonce of 8 to 128 characters is required")
    missing = [c for c in REQUIRED if c not in components]
    if not any(t in components for t in TARGETS):
        missing.append("@path")
    if message.body and "content-digest" not in components:
        missing.append("content-digest")
    if missing:
        raise VerificationFailed("httpsig", "the signature must cover " + ", ".join(missing))
    if "content-digest" in components:
        check_content_digest(message)


def check_content_digest(message: HttpMessage) -> None:
    """RFC 9530 §2: every digest the sender gave, of an algorithm we know, must match."""
    raw = message.field("content-digest")
    parsed = Dictionary()
    try:
        parsed.parse((raw or "").encode())
    except ValueError:
        raise VerificationFailed("digest", "Content-Digest is malformed") from None
    known = {"sha-256": hashlib.sha256, "sha-512": hashlib.sha512}
    checked = 0
    for alg, item in parsed.items():
        if alg in known:
            if not isinstance(item.value, bytes) or not hmac.compare_digest(
                item.value, known[alg](message.body).digest()
            ):
                raise VerificationFailed("digest", "Content-Digest does not match the body")
            checked += 1
    if not checked:
        raise VerificationFailed("digest", "Content-Digest has no sha-256 or sha-512 digest")


def content_digest(body: bytes) -> str:
    return "sha-256=:" + base64.b64encode(hashlib.sha256(body).digest()).decode() + ":"


def sign_message(
    message: HttpMessage,
    private_key: Any,
    *,
    components: Sequence[str],
    params: Mapping[str, Any],
    label: str = "sig1",
) -> list[tuple[str, str]]:
    """Signature-Input and Signature for `message` (agents' clients, tests, the bench)."""
    inner = InnerList()
    inner.parse(("(" + " ".join(f'"{c}"' for c in components) + ")").encode())
    for name, value in params.items():
        inner.params[name] = value
    base = signature_base(message, inner)
    if isinstance(private_key, ed25519.Ed25519PrivateKey):
        raw = private_key.sign(base)
    else:
        from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

        r, s = decode_dss_signature(private_key.sign(base, ec.ECDSA(hashes.SHA256())))
        raw = r.to_bytes(32, "big") + s.to_bytes(32, "big")
    return [
        ("Signature-Input", f"{label}={inner}"),
        ("Signature", f"{label}=:{base64.b64encode(raw).decode()}:"),
    ]


def replay_check(verified: Verified, store: NonceStore, scope: str, now: int, window: int) -> None:
    """Claim the nonce until the signature can no longer be used (its expiry, or the window)."""
    if verified.nonce is None:
        raise VerificationFailed("httpsig", "a nonce is required")
    until = (verified.expires or now) + window
    if not store.claim(scope, verified.nonce, until, now):
        raise VerificationFailed("replayed", "this signed request was already received")
