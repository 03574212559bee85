"""The mandates module's error codes and its named errors.

A credential, a signature or a payment under a mandate is refused for a reason, one
word (`Reason`, `Refusal`); its code is `mandate-<reason>`, or `signature-<reason>` for
a signed request (RFC 9421) that does not verify.
"""

from __future__ import annotations

from enum import StrEnum
from typing import ClassVar, Literal

from paygod.kernel.errors import InvalidInput

# Why a credential, a key binding or a message signature does not hold.
Reason = Literal[
    "amount",
    "binding",
    "checkout",
    "digest",
    "disclosure",
    "expired",
    "httpsig",
    "key",
    "malformed",
    "merchant",
    "not-yet-valid",
    "replayed",
    "signature",
    "signer",
]
# Why a payment may not be made under a mandate.
Refusal = Literal[
    "unknown",
    "revoked",
    "kind",
    "grantee",
    "not-yet-valid",
    "expired",
    "currency",
    "amount",
    "merchant",
    "category",
    "rail",
    "checkout",
]


class MandateCode(StrEnum):
    MANDATE_AMOUNT = "mandate-amount"
    MANDATE_BINDING = "mandate-binding"
    MANDATE_CATEGORY = "mandate-category"
    MANDATE_CHECKOUT = "mandate-checkout"
    MANDATE_CURRENCY = "mandate-currency"
    MANDATE_DIGEST = "mandate-digest"
    MANDATE_DISCLOSURE = "mandate-disclosure"
    MANDATE_EXPIRED = "mandate-expired"
    MANDATE_GRANTEE = "mandate-grantee"
    MANDATE_HTTPSIG = "mandate-httpsig"
    MANDATE_KEY = "mandate-key"
    MANDATE_KIND = "mandate-kind"
    MANDATE_MALFORMED = "mandate-malformed"
    MANDATE_MERCHANT = "mandate-merchant"
    MANDATE_NOT_YET_VALID = "mandate-not-yet-valid"
    MANDATE_PARTIES = "mandate-parties"
    MANDATE_RAIL = "mandate-rail"
    MANDATE_REPLAYED = "mandate-replayed"
    MANDATE_REVOKED = "mandate-revoked"
    MANDATE_SIGNATURE = "mandate-signature"
    MANDATE_SIGNER = "mandate-signer"
    MANDATE_UNKNOWN = "mandate-unknown"
    KEY_EXISTS = "key-exists"
    NOT_GRANTOR = "not-grantor"
    AMOUNT_INVALID = "amount-invalid"
    AMOUNT_PRECISION = "amount-precision"
    SIGNATURE_AMOUNT = "signature-amount"
    SIGNATURE_BINDING = "signature-binding"
    SIGNATURE_CHECKOUT = "signature-checkout"
    SIGNATURE_DIGEST = "signature-digest"
    SIGNATURE_DISCLOSURE = "signature-disclosure"
    SIGNATURE_EXPIRED = "signature-expired"
    SIGNATURE_HTTPSIG = "signature-httpsig"
    SIGNATURE_KEY = "signature-key"
    SIGNATURE_MALFORMED = "signature-malformed"
    SIGNATURE_MERCHANT = "signature-merchant"
    SIGNATURE_NOT_YET_VALID = "signature-not-yet-valid"
    SIGNATURE_REPLAYED = "signature-replayed"
    SIGNATURE_SIGNATURE = "signature-signature"
    SIGNATURE_SIGNER = "signature-signer"


def mandate_refused(reason: Reason | Refusal) -> MandateCode:
    return MandateCode(f"mandate-{reason}")


def signature_refused(reason: Reason) -> MandateCode:
    return MandateCode(f"signature-{reason}")


class PartiesRefused(InvalidInput):
    """A mandate's grantor or grantee is not a principal who may take that part."""

    code: ClassVar[StrEnum] = MandateCode.MANDATE_PARTIES
