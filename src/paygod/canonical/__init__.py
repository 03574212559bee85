"""RFC 8785 (JSON Canonicalization Scheme) and the sha256 digests built on it."""

from paygod.canonical.jcs import (
    CanonicalizationError,
    canonical_str,
    canonicalize,
    digest,
    sha256_hex,
)
from paygod.canonical.safe_numbers import MAX_SAFE_INTEGER, unsafe_numbers

__all__ = [
    "MAX_SAFE_INTEGER",
    "CanonicalizationError",
    "canonical_str",
    "canonicalize",
    "digest",
    "sha256_hex",
    "unsafe_numbers",
]
