"""SD-JWT (RFC 9901) presentations: disclosures, their digests, key binding.

A presentation is `<issuer-signed JWT>~<disclosure>~...~<disclosure>~[<KB-JWT>]`.
`reveal` follows §7.1: every `_sd` digest and `{"...": digest}` array element is matched
to a disclosure by the SHA-256 of its ASCII form; a digest met twice, a disclosure that
nothing references, a disclosed name that already exists or is `_sd`/`...`, or a disclosure
of the wrong shape is refused; unmatched digests are decoys and ignored. `verify_key_binding`
follows §7.3: the KB-JWT (`typ` kb+jwt) is signed by the `cnf.jwk` the issuer bound, and
carries `iat`, the expected `aud` and `nonce`, and `sd_hash` over the presentation up to
and including its last `~`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from paygod.mandates.jose import (
    VerificationFailed,
    b64url_decode,
    json_object,
    sha256_b64url,
    verify_jws,
)

MAX_DISCLOSURES = 256  # a presentation is a handful; thousands are an attack on the verifier
MAX_DEPTH = 16


@dataclass(frozen=True)
class Presentation:
    issuer_jwt: str
    disclosures: tuple[str, ...]
    kb_jwt: str | None

    @property
    def sd_jwt(self) -> str:
        """The part `sd_hash` covers: issuer JWT and disclosures, each followed by `~`."""
        return "".join(f"{part}~" for part in (self.issuer_jwt, *self.disclosures))

    @property
    def header(self) -> dict[str, Any]:
        return json_object(self.issuer_jwt.split(".")[0], "the SD-JWT header")


def parse(text: str) -> Presentation:
    if not isinstance(text, str) or "~" not in text:
        raise VerificationFailed("malformed", "an SD-JWT has `~` after its issuer JWT")
    parts = text.split("~")
    issuer, middle, last = parts[0], parts[1:-1], parts[-1]
    if issuer.count(".") != 2:
        raise VerificationFailed("malformed", "the issuer-signed JWT is not a compact JWS")
    if any(not d for d in middle):
        raise VerificationFailed("malformed", "an empty disclosure")
    if len(middle) > MAX_DISCLOSURES:
        raise VerificationFailed("malformed", f"more than {MAX_DISCLOSURES} disclosures")
    if last and last.count(".") != 2:
        raise VerificationFailed("malformed", "the key-binding JWT is not a compact JWS")
    return Presentation(issuer, tuple(middle), last or None)


def _decode_disclosure(disclosure: str) -> list[Any]:
    try:
        value = json.loads(b64url_decode(disclosure))
    except (ValueError, UnicodeDecodeError):
        raise VerificationFailed("disclosure", "a disclosure is not base64url JSON") from None
    if not isinstance(value, list) or len(value) not in (2, 3) or not isinstance(value[0], str):
        raise VerificationFailed("disclosure", "a disclosure is [salt, (name,) value]")
    return value


class _Revealer:
    def __init__(self, disclosures: tuple[str, ...], sd_alg: str) -> None:
        if sd_alg != "sha-256":
            raise VerificationFailed("disclosure", f"_sd_alg {sd_alg!r} is not supported")
        self.by_digest: dict[str, list[Any]] = {}
        for d in disclosures:
            digest = sha256_b64url(d)
            if digest in self.by_digest:
                raise VerificationFailed("disclosure", "the same disclosure is sent twice")
            self.by_digest[digest] = _decode_disclosure(d)
        self.used: set[str] = set()

    def take(self, digest: Any) -> list[Any] | None:
        if not isinstance(digest, str):
            raise VerificationFailed("disclosure", "a digest is a string")
        if digest in self.used:
            raise VerificationFailed("disclosure", "a digest is referenced twice")
        self.used.add(digest)
        return self.by_digest.get(digest)  # None: a decoy digest

    def value(self, node: Any, depth: int = 0) -> Any:
        if depth > MAX_DEPTH:
            raise VerificationFailed("malformed", "the claims nest too deeply")
        if isinstance(node, dict):
            return self._object(node, depth)
        if isinstance(node, list):
            return self._array(node, depth)
        return node

    def _object(self, node: dict[str, Any], depth: int) -> dict[str, Any]:
        out = {k: self.value(v, depth + 1) for k, v in node.items() if k not in ("_sd", "_sd_alg")}
        digests = node.get("_sd", [])
        if not isinstance(digests, list):
            raise VerificationFailed("disclosure", "_sd is an array of digests")
        for digest in digests:
            found = self.take(digest)
            if found is None:
                continue
            if len(found) != 3 or not isinstance(found[1], str):
                raise VerificationFailed("disclosure", "an object disclosure has a claim name")
            name = found[1]
            if name in ("_sd", "...") or name in out:
                raise VerificationFailed("disclosure", f"disclosed claim {name!r} collides")
            out[name] = self.value(found[2], depth + 1)
        return out

    def _array(self, node: list[Any], depth: int) -> list[Any]:
        out: list[Any] = []
        for element in node:
            if isinstance(element, dict) and set(element) == {"..."}:
                found = self.take(element["..."])
                if found is None:
                    continue  # a decoy element is dropped
                if len(found) != 2:
                    raise VerificationFailed("disclosure", "an array disclosure has no name")
                out.append(self.value(found[1], depth + 1))
            else:
                out.append(self.value(element, depth + 1))
        return out


def reveal(payload: Mapping[str, Any], disclosures: tuple[str, ...]) -> dict[str, Any]:
    """The payload with every disclosure put in its place (RFC 9901 §7.1 steps 3-5)."""
    alg = payload.get("_sd_alg", "sha-256")
    revealer = _Revealer(disclosures, alg if isinstance(alg, str) else "")
    claims = revealer.value(dict(payload))
    unused = set(revealer.by_digest) - revealer.used
    if unused:
        raise VerificationFailed("disclosure", "a disclosure is not referenced by the token")
    assert isinstance(claims, dict)
    return claims


def verify(presentation: Presentation, issuer_jwk: Mapping[str, str]) -> dict[str, Any]:
    """The issuer's signature checked and the disclosures revealed."""
    _, payload = verify_jws(presentation.issuer_jwt, issuer_jwk)
    return reveal(payload, presentation.disclosures)


def holder_jwk(claims: Mapping[str, Any]) -> dict[str, str]:
    cnf = claims.get("cnf")
    if not isinstance(cnf, Mapping) or not isinstance(cnf.get("jwk"), Mapping):
        raise VerificationFailed("binding", "the credential binds no holder key (cnf.jwk)")
    return dict(cnf["jwk"])


def verify_key_binding(
    presentation: Presentation,
    holder: Mapping[str, str],
    *,
    audience: str,
    nonce: str,
    now: int,
    max_age: int = 300,
) -> dict[str, Any]:
    """RFC 9901 §7.3: the holder's KB-JWT over this very presentation."""
    if presentation.kb_jwt is None:
        raise VerificationFailed("binding", "no key-binding JWT: the holder did not present it")
    header, claims = verify_jws(presentation.kb_jwt, holder)
    if header.get("typ") != "kb+jwt":
        raise VerificationFailed("binding", "the key-binding JWT's typ is not kb+jwt")
    check_binding_claims(claims, presentation, audience=audience, nonce=nonce, now=now)
    iat = claims["iat"]
    if iat < now - max_age:
        raise VerificationFailed("expired", "the key-binding JWT is older than allowed")
    return claims


def check_binding_claims(
    claims: Mapping[str, Any],
    previous: Presentation,
    *,
    audience: str | None,
    nonce: str | None,
    now: int,
    skew: int = 60,
) -> None:
    iat = claims.get("iat")
    if type(iat) is not int:
        raise VerificationFailed("binding", "iat is required, an integer")
    if iat > now + skew:
        raise VerificationFailed("not-yet-valid", "the key binding is issued in the future")
    if audience is not None and claims.get("aud") != audience:
        raise VerificationFailed("binding", "the key binding is for another audience")
    if nonce is not None and claims.get("nonce") != nonce:
        raise VerificationFailed("binding", "the key binding's nonce is not the one expected")
    if claims.get("sd_hash") != sha256_b64url(previous.sd_jwt):
        raise VerificationFailed("binding", "sd_hash does not match the presentation")
