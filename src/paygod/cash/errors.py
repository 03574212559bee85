"""The cash module's error codes."""

from __future__ import annotations

from enum import StrEnum
from typing import ClassVar

from paygod.kernel.errors import NotFound


class CashCode(StrEnum):
    CASH_NAME_INVALID = "cash-name-invalid"
    AMOUNT_MUST_BE_POSITIVE = "amount-must-be-positive"
    DECLARED_INVALID = "declared-invalid"
    CASH_BRANCH_NOT_FOUND = "cash-branch-not-found"
    CASH_TILL_NOT_FOUND = "cash-till-not-found"
    CASH_LIMIT_EXCEEDED = "cash-limit-exceeded"


class CashTillNotFound(NotFound):
    code: ClassVar[StrEnum] = CashCode.CASH_TILL_NOT_FOUND
