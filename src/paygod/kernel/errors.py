"""The domain error hierarchy and the kernel's own error codes.

Every failure a user can act on is one of these. They are mapped in exactly one
place each: the class says its HTTP status and exit code, `paygod.api.problems` writes
RFC 9457 problem+json, `paygod.cli.errors` the exit code and one precise stderr line.
Domain code raises; edges translate.

Codes. An error's code is the last segment of its problem `type`
(`https://paygod.dev/problems/<code>`); clients match it, so a code never changes once
published. Each module lists its codes in one `StrEnum` in its `errors.py`
(`paygod.payments.errors.PaymentCode`...), the kernel's generic ones are `KernelCode`
below; a raiser passes an enum member, never a string (`tests/unit/test_error_codes.py`
holds the rule, and `docs/errors.md` lists every code).

Spelling. Codes are kebab-case (`idempotency-key-reused`, `cash-limit-exceeded`), with
one exception: the accounting module's result codes keep TigerBeetle's
CreateAccountResult / CreateTransferResult names verbatim, in snake_case
(`exceeds_credits`, `pending_transfer_not_pending`, `linked_event_failed`...), and so do
the accounting codes named in their style (`period_closed`, `statement_invalid`...):
clients of a TigerBeetle-model ledger match those names.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, ClassVar

PROBLEM_BASE = "https://paygod.dev/problems/"


class KernelCode(StrEnum):
    """The generic codes: each error class's default, and the few the kernel and the
    HTTP edge raise themselves."""

    INTERNAL_ERROR = "internal-error"
    INVALID_INPUT = "invalid-input"
    INVALID_SETTINGS = "invalid-settings"
    NOT_FOUND = "not-found"
    CONFLICT = "conflict"
    GONE = "gone"
    REJECTED = "rejected"
    INSUFFICIENT_CREDITS = "insufficient-credits"
    UNAUTHORIZED = "unauthorized"
    FORBIDDEN = "forbidden"
    RATE_LIMITED = "rate-limited"
    UNAVAILABLE = "unavailable"
    CHECK_FAILED = "check-failed"
    METHOD_NOT_ALLOWED = "method-not-allowed"
    PAYLOAD_TOO_LARGE = "payload-too-large"
    HTTP_ERROR = "http-error"
    IDEMPOTENCY_KEY_REUSED = "idempotency-key-reused"
    ILLEGAL_TRANSITION = "illegal-transition"
    SAME_PRINCIPAL = "same-principal"


@dataclass(frozen=True, slots=True)
class FieldError:
    """One invalid field: an RFC 6901 JSON pointer into the offending document and why."""

    pointer: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"pointer": self.pointer, "message": self.message}


class PaygodError(Exception):
    """Base of all errors a user sees. `code` is stable and becomes the problem `type`."""

    code: ClassVar[StrEnum] = KernelCode.INTERNAL_ERROR
    title: ClassVar[str] = "Internal error"
    status: ClassVar[int] = 500
    exit_code: ClassVar[int] = 1

    def __init__(
        self,
        detail: str,
        *,
        code: StrEnum | None = None,
        errors: Sequence[FieldError] = (),
        extra: Mapping[str, Any] | None = None,
        retry_after: int | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.instance_code: StrEnum = code or self.code
        self.errors = tuple(errors)
        self.extra = dict(extra or {})
        self.retry_after = retry_after

    @property
    def type_uri(self) -> str:
        return PROBLEM_BASE + self.instance_code

    def one_line(self) -> str:
        """The single stderr line the CLI prints."""
        if self.errors:
            first = self.errors[0]
            if first.message in self.detail and len(self.errors) == 1:
                return f"error: {self.detail}"
            where = first.pointer or "/"
            more = f" (+{len(self.errors) - 1} more)" if len(self.errors) > 1 else ""
            return f"error: {self.detail}: {where}: {first.message}{more}"
        return f"error: {self.detail}"


class InvalidInput(PaygodError):
    """The request or file is malformed; nothing was recorded."""

    code: ClassVar[StrEnum] = KernelCode.INVALID_INPUT
    title = "Invalid input"
    status = 422
    exit_code = 2


class InvalidSettings(PaygodError):
    code: ClassVar[StrEnum] = KernelCode.INVALID_SETTINGS
    title = "Invalid settings"
    status = 500
    exit_code = 2


class NotFound(PaygodError):
    code: ClassVar[StrEnum] = KernelCode.NOT_FOUND
    title = "Not found"
    status = 404
    exit_code = 2


class Conflict(PaygodError):
    """The request contradicts recorded state (idempotency key reused with another body...)."""

    code: ClassVar[StrEnum] = KernelCode.CONFLICT
    title = "Conflict"
    status = 409
    exit_code = 1


class Gone(PaygodError):
    """The thing existed and was destroyed on purpose (a data subject erased); `extra`
    says when (RFC 9110 section 15.5.11)."""

    code: ClassVar[StrEnum] = KernelCode.GONE
    title = "Gone"
    status = 410
    exit_code = 1


class Rejected(PaygodError):
    """A well-formed request the domain refuses (exceeds_credits, pending_transfer_expired...)."""

    code: ClassVar[StrEnum] = KernelCode.REJECTED
    title = "Rejected by the domain rules"
    status = 422
    exit_code = 1


class PaymentRequired(PaygodError):
    code: ClassVar[StrEnum] = KernelCode.INSUFFICIENT_CREDITS
    title = "Insufficient credits"
    status = 402
    exit_code = 1


class Unauthorized(PaygodError):
    code: ClassVar[StrEnum] = KernelCode.UNAUTHORIZED
    title = "Authentication required"
    status = 401
    exit_code = 2


class Forbidden(PaygodError):
    code: ClassVar[StrEnum] = KernelCode.FORBIDDEN
    title = "Forbidden"
    status = 403
    exit_code = 2


class RateLimited(PaygodError):
    code: ClassVar[StrEnum] = KernelCode.RATE_LIMITED
    title = "Too many requests"
    status = 429
    exit_code = 3


class Unavailable(PaygodError):
    """A dependency (the ledger store, Redis, NATS) is unreachable; retry later."""

    code: ClassVar[StrEnum] = KernelCode.UNAVAILABLE
    title = "Service unavailable"
    status = 503
    exit_code = 3


class CheckFailed(PaygodError):
    """A verification ran and found a problem (tampered ledger, failing pack test)."""

    code: ClassVar[StrEnum] = KernelCode.CHECK_FAILED
    title = "Check failed"
    status = 422
    exit_code = 1


class IdempotencyKeyReused(Conflict):
    """An Idempotency-Key already names another request (another body, or another caller's)."""

    code: ClassVar[StrEnum] = KernelCode.IDEMPOTENCY_KEY_REUSED


class SamePrincipal(Forbidden):
    """Maker-checker: the principal who made a thing cannot also approve (or close) it."""

    code: ClassVar[StrEnum] = KernelCode.SAME_PRINCIPAL
