"""RFC 8785 (JSON Canonicalization Scheme) and the sha256 digests built on it."""

from paygod.canonical.jcs import (
    CanonicalizationError,
    canonical_str,
    canonicalize,
    digest,
    sha256_hex,
)

__all__ = ["CanonicalizationError", "canonical_str", "canonicalize", "digest", "sha256_hex"]
