"""The domain error hierarchy.

Every failure a user can act on is one of these. They are mapped in exactly one
place each: `paygod.api.problems` (RFC 9457 problem+json) and `paygod.cli.errors`
(exit code plus one precise stderr line). Domain code raises; edges translate.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

PROBLEM_BASE = "https://paygod.dev/problems/"


@dataclass(frozen=True, slots=True)
class FieldError:
    """One invalid field: an RFC 6901 JSON pointer into the offending document and why."""

    pointer: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"pointer": self.pointer, "message": self.message}


class PaygodError(Exception):
    """Base of all errors a user sees. `code` is stable and becomes the problem `type`."""

    code: ClassVar[str] = "internal-error"
    title: ClassVar[str] = "Internal error"
    status: ClassVar[int] = 500
    exit_code: ClassVar[int] = 1

    def __init__(
        self,
        detail: str,
        *,
        code: str | None = None,
        errors: Sequence[FieldError] = (),
        extra: Mapping[str, Any] | None = None,
        retry_after: int | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.instance_code = code or self.code
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

    code = "invalid-input"
    title = "Invalid input"
    status = 422
    exit_code = 2


class InvalidSettings(PaygodError):
    code = "invalid-settings"
    title = "Invalid settings"
    status = 500
    exit_code = 2


class NotFound(PaygodError):
    code = "not-found"
    title = "Not found"
    status = 404
    exit_code = 2


class Conflict(PaygodError):
    """The request contradicts recorded state (idempotency key reused with another body...)."""

    code = "conflict"
    title = "Conflict"
    status = 409
    exit_code = 1


class Gone(PaygodError):
    """The thing existed and was destroyed on purpose (a data subject erased); `extra`
    says when (RFC 9110 section 15.5.11)."""

    code = "gone"
    title = "Gone"
    status = 410
    exit_code = 1


class Rejected(PaygodError):
    """A well-formed request the domain refuses (exceeds_credits, pending_transfer_expired...)."""

    code = "rejected"
    title = "Rejected by the domain rules"
    status = 422
    exit_code = 1


class PaymentRequired(PaygodError):
    code = "insufficient-credits"
    title = "Insufficient credits"
    status = 402
    exit_code = 1


class Unauthorized(PaygodError):
    code = "unauthorized"
    title = "Authentication required"
    status = 401
    exit_code = 2


class Forbidden(PaygodError):
    code = "forbidden"
    title = "Forbidden"
    status = 403
    exit_code = 2


class RateLimited(PaygodError):
    code = "rate-limited"
    title = "Too many requests"
    status = 429
    exit_code = 3


class Unavailable(PaygodError):
    """A dependency (the ledger store, Redis, NATS) is unreachable; retry later."""

    code = "unavailable"
    title = "Service unavailable"
    status = 503
    exit_code = 3


class CheckFailed(PaygodError):
    """A verification ran and found a problem (tampered ledger, failing pack test)."""

    code = "check-failed"
    title = "Check failed"
    status = 422
    exit_code = 1
