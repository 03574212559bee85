"""The accounting module's error codes and its named errors.

The transfer and account results keep TigerBeetle's CreateTransferResult and
CreateAccountResult names verbatim, snake_case (`exceeds_credits`,
`pending_transfer_not_pending`...): clients of a TigerBeetle-model ledger match them. The
codes of this module's own (`period_closed`, `statement_invalid`...) are spelled the same
way, so one ledger speaks one dialect. Every other module's codes are kebab-case
(`paygod.kernel.errors`).
"""

from __future__ import annotations

from enum import StrEnum

from paygod.kernel.errors import Conflict, InvalidInput, NotFound


class AccountingCode(StrEnum):
    # A request refused on its own terms (TigerBeetle's order where it has the name).
    LINKED_EVENT_FAILED = "linked_event_failed"
    LINKED_EVENT_CHAIN_OPEN = "linked_event_chain_open"
    ID_MUST_NOT_BE_EMPTY = "id_must_not_be_empty"
    ID_INVALID = "id_invalid"
    FLAGS_ARE_MUTUALLY_EXCLUSIVE = "flags_are_mutually_exclusive"
    DEBIT_ACCOUNT_ID_MUST_NOT_BE_EMPTY = "debit_account_id_must_not_be_empty"
    CREDIT_ACCOUNT_ID_MUST_NOT_BE_EMPTY = "credit_account_id_must_not_be_empty"
    ACCOUNTS_MUST_BE_DIFFERENT = "accounts_must_be_different"
    PENDING_ID_MUST_NOT_BE_EMPTY = "pending_id_must_not_be_empty"
    PENDING_ID_MUST_BE_DIFFERENT = "pending_id_must_be_different"
    TIMEOUT_RESERVED_FOR_PENDING_TRANSFER = "timeout_reserved_for_pending_transfer"
    TIMEOUT_MUST_NOT_BE_NEGATIVE = "timeout_must_not_be_negative"
    LEDGER_UNKNOWN = "ledger_unknown"
    LEDGER_MUST_MATCH = "ledger_must_match"
    CODE_INVALID = "code_invalid"
    METADATA_INVALID = "metadata_invalid"
    AMOUNT_MUST_NOT_BE_ZERO = "amount_must_not_be_zero"
    AMOUNT_MUST_NOT_BE_NEGATIVE = "amount_must_not_be_negative"
    AMOUNT_MUST_BE_AN_INTEGER = "amount_must_be_an_integer"
    OVERFLOW = "overflow"
    REVERSAL_MUST_NOT_BE_PENDING = "reversal_must_not_be_pending"
    VALID_FROM_RESERVED_FOR_POSTED_TRANSFER = "valid_from_reserved_for_posted_transfer"
    VALID_FROM_IN_FUTURE = "valid_from_in_future"
    VALID_FROM_BEFORE_ACCOUNT_OPENED = "valid_from_before_account_opened"
    VALID_FROM_UNSUPPORTED = "valid_from_unsupported"
    # Refused against the recorded state.
    DEBIT_ACCOUNT_NOT_FOUND = "debit_account_not_found"
    CREDIT_ACCOUNT_NOT_FOUND = "credit_account_not_found"
    ACCOUNT_CLOSED = "account_closed"
    PENDING_TRANSFER_NOT_FOUND = "pending_transfer_not_found"
    PENDING_TRANSFER_NOT_PENDING = "pending_transfer_not_pending"
    PENDING_TRANSFER_HAS_DIFFERENT_DEBIT_ACCOUNT_ID = (
        "pending_transfer_has_different_debit_account_id"
    )
    PENDING_TRANSFER_HAS_DIFFERENT_CREDIT_ACCOUNT_ID = (
        "pending_transfer_has_different_credit_account_id"
    )
    PENDING_TRANSFER_HAS_DIFFERENT_LEDGER = "pending_transfer_has_different_ledger"
    PENDING_TRANSFER_HAS_DIFFERENT_AMOUNT = "pending_transfer_has_different_amount"
    PENDING_TRANSFER_ALREADY_POSTED = "pending_transfer_already_posted"
    PENDING_TRANSFER_ALREADY_VOIDED = "pending_transfer_already_voided"
    PENDING_TRANSFER_EXPIRED = "pending_transfer_expired"
    EXCEEDS_PENDING_TRANSFER_AMOUNT = "exceeds_pending_transfer_amount"
    EXCEEDS_CREDITS = "exceeds_credits"
    EXCEEDS_DEBITS = "exceeds_debits"
    REVERSAL_TRANSFER_NOT_FOUND = "reversal_transfer_not_found"
    REVERSAL_MUST_SWAP_ACCOUNTS = "reversal_must_swap_accounts"
    EXCEEDS_REVERSIBLE_AMOUNT = "exceeds_reversible_amount"
    TRANSFER_OWNED_BY_MODULE = "transfer_owned_by_module"
    # The same id again with other content (a transfer's fields, then an account's).
    EXISTS_WITH_DIFFERENT_FLAGS = "exists_with_different_flags"
    EXISTS_WITH_DIFFERENT_PENDING_ID = "exists_with_different_pending_id"
    EXISTS_WITH_DIFFERENT_TIMEOUT_SECONDS = "exists_with_different_timeout_seconds"
    EXISTS_WITH_DIFFERENT_DEBIT_ACCOUNT_ID = "exists_with_different_debit_account_id"
    EXISTS_WITH_DIFFERENT_CREDIT_ACCOUNT_ID = "exists_with_different_credit_account_id"
    EXISTS_WITH_DIFFERENT_AMOUNT = "exists_with_different_amount"
    EXISTS_WITH_DIFFERENT_LEDGER = "exists_with_different_ledger"
    EXISTS_WITH_DIFFERENT_CODE = "exists_with_different_code"
    EXISTS_WITH_DIFFERENT_REVERSAL_OF = "exists_with_different_reversal_of"
    EXISTS_WITH_DIFFERENT_METADATA = "exists_with_different_metadata"
    EXISTS_WITH_DIFFERENT_VALID_FROM = "exists_with_different_valid_from"
    EXISTS_WITH_DIFFERENT_OWNER = "exists_with_different_owner"
    # Accounts, periods, statements, credits: this module's own.
    ACCOUNT_EXISTS = "account_exists"
    ACCOUNT_NOT_FOUND = "account_not_found"
    ACCOUNT_HAS_PENDING_TRANSFERS = "account_has_pending_transfers"
    TRANSFER_NOT_FOUND = "transfer_not_found"
    PERIOD_INVALID = "period_invalid"
    PERIOD_NOT_FOUND = "period_not_found"
    PERIOD_NOT_OVER = "period_not_over"
    PERIOD_EMPTY = "period_empty"
    PERIOD_CLOSED = "period_closed"
    STATEMENT_INVALID = "statement_invalid"
    STATEMENT_NOT_FOUND = "statement_not_found"
    RECONCILIATION_NOT_FOUND = "reconciliation_not_found"
    IDEMPOTENCY_KEY_INVALID = "idempotency_key_invalid"
    REQUESTED_BY_NOT_CALLER = "requested_by_not_caller"
    TTL_INVALID = "ttl_invalid"
    VALID_FROM_INVALID = "valid_from_invalid"


def exists_with_different(name: str) -> AccountingCode:
    """The code of an id sent again with another `name` (a transfer's or an account's)."""
    return AccountingCode(f"exists_with_different_{name}")


class AccountNotFound(NotFound):
    code = AccountingCode.ACCOUNT_NOT_FOUND


class PendingTransferNotFound(NotFound):
    code = AccountingCode.PENDING_TRANSFER_NOT_FOUND


class PeriodNotFound(NotFound):
    code = AccountingCode.PERIOD_NOT_FOUND


class PeriodInvalid(InvalidInput):
    code = AccountingCode.PERIOD_INVALID


class MetadataInvalid(InvalidInput):
    code = AccountingCode.METADATA_INVALID


class IdempotencyKeyInvalid(InvalidInput):
    code = AccountingCode.IDEMPOTENCY_KEY_INVALID


class PeriodClosed(Conflict):
    code = AccountingCode.PERIOD_CLOSED
