"""RFC 8785 canonical JSON, as the rest of Paygod calls it, and the digests built on it.

The rules are stated once, in `paygod.ledger.verifier` (the file an auditor runs alone):
its `canonicalize` is the exact encoder, and `CanonicalizationError` its refusal, with a
JSON Pointer to what has no RFC 8785 form. `canonicalize` here is the ledger's fast path
over it (`paygod.ledger.chain.canonical_bytes`): orjson's bytes where they are provably
the verifier's, the verifier's own otherwise.
"""

from __future__ import annotations

import hashlib
from typing import Any

from paygod.ledger.chain import canonical_bytes as canonicalize
from paygod.ledger.verifier import CanonicalizationError

__all__ = ["CanonicalizationError", "canonical_str", "canonicalize", "digest", "sha256_hex"]


def canonical_str(value: Any) -> str:
    """The RFC 8785 form of `value` as text (CanonicalizationError if it has none)."""
    return canonicalize(value).decode("utf-8")


def sha256_hex(value: Any) -> str:
    """Lowercase hex SHA-256 of the canonical bytes of `value`."""
    return hashlib.sha256(canonicalize(value)).hexdigest()


def digest(value: Any) -> str:
    """`sha256:<hex>` digest of the canonical bytes of `value`, the form used in evidence."""
    return "sha256:" + sha256_hex(value)
