"""Double-entry accounting: accounts, transfers, holds, limits, reversals, reports, credits."""

from paygod.accounting.model import (
    MAX_AMOUNT,
    Account,
    AccountCode,
    AccountFlags,
    Transfer,
    TransferError,
    TransferFlags,
    TransferRequest,
    TransferResult,
    TransferState,
)
from paygod.accounting.service import AccountingService, AccountSpec

__all__ = [
    "MAX_AMOUNT",
    "Account",
    "AccountCode",
    "AccountFlags",
    "AccountSpec",
    "AccountingService",
    "Transfer",
    "TransferError",
    "TransferFlags",
    "TransferRequest",
    "TransferResult",
    "TransferState",
]
