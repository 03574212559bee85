"""API key tokens: `pg_<prefix>_<secret>`, pure functions.

The secret has 256 bits of entropy, so a single SHA-256 is as good as a slow hash here
(nobody can brute-force 2^256) and costs microseconds on the hot path; lookup is by the
public prefix, comparison in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import string

_ALPHABET = string.ascii_lowercase + string.digits
PREFIX_LENGTH = 12


def new_token() -> tuple[str, str, str]:
    """(token, prefix, secret_hash) for a fresh key."""
    prefix = "".join(secrets.choice(_ALPHABET) for _ in range(PREFIX_LENGTH))
    secret = secrets.token_urlsafe(32)
    return f"pg_{prefix}_{secret}", prefix, hash_secret(secret)


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def split_token(token: str) -> tuple[str, str] | None:
    """(prefix, secret) of a well-formed token, else None."""
    parts = token.split("_", 2)
    if len(parts) != 3 or parts[0] != "pg":
        return None
    prefix, secret = parts[1], parts[2]
    if len(prefix) != PREFIX_LENGTH or not secret or len(secret) > 128:
        return None
    return prefix, secret


def secret_matches(secret: str, stored_hash: str) -> bool:
    return hmac.compare_digest(hash_secret(secret), stored_hash)


def looks_like_api_key(token: str) -> bool:
    return token.startswith("pg_")
