"""The transfer rules: which requests are refused, with TigerBeetle-style specific codes.

`validate_request` needs nothing but the request; `Planner` applies a batch to an overlay
of the accounts and transfers it touches and decides every transfer before anything is
written, so a refused transfer (or a failed linked chain) leaves no trace.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from paygod.accounting.currencies import LEDGERS
from paygod.accounting.errors import AccountingCode, exists_with_different
from paygod.accounting.model import (
    MAX_AMOUNT,
    OWNER_KEY,
    Account,
    LedgerRecord,
    Transfer,
    TransferError,
    TransferRequest,
    TransferResult,
    TransferState,
    isoformat,
    owner_of,
    stored_metadata,
)
from paygod.accounting.validtime import FUTURE_SKEW, Posting, ValidHistory, first_breach
from paygod.canonical import CanonicalizationError, digest, unsafe_numbers
from paygod.kernel.identifiers import identifier_problem, invisible_character
from paygod.kernel.written import written_message, written_problems

# Which kernel error each code becomes at the edges (the rest are `Rejected`).
INVALID_CODES = frozenset(
    {
        AccountingCode.ID_MUST_NOT_BE_EMPTY,
        AccountingCode.ID_INVALID,
        AccountingCode.FLAGS_ARE_MUTUALLY_EXCLUSIVE,
        AccountingCode.DEBIT_ACCOUNT_ID_MUST_NOT_BE_EMPTY,
        AccountingCode.CREDIT_ACCOUNT_ID_MUST_NOT_BE_EMPTY,
        AccountingCode.ACCOUNTS_MUST_BE_DIFFERENT,
        AccountingCode.AMOUNT_MUST_NOT_BE_ZERO,
        AccountingCode.AMOUNT_MUST_NOT_BE_NEGATIVE,
        AccountingCode.AMOUNT_MUST_BE_AN_INTEGER,
        AccountingCode.OVERFLOW,
        AccountingCode.PENDING_ID_MUST_NOT_BE_EMPTY,
        AccountingCode.PENDING_ID_MUST_BE_DIFFERENT,
        AccountingCode.TIMEOUT_RESERVED_FOR_PENDING_TRANSFER,
        AccountingCode.TIMEOUT_MUST_NOT_BE_NEGATIVE,
        AccountingCode.REVERSAL_MUST_NOT_BE_PENDING,
        AccountingCode.LEDGER_UNKNOWN,
        AccountingCode.LEDGER_MUST_MATCH,
        AccountingCode.LINKED_EVENT_CHAIN_OPEN,
        AccountingCode.METADATA_INVALID,
        AccountingCode.CODE_INVALID,
        AccountingCode.VALID_FROM_RESERVED_FOR_POSTED_TRANSFER,
        AccountingCode.VALID_FROM_IN_FUTURE,
    }
)
# A user's request on a module's transfer: the transfer exists and is fine, the request
# contradicts who may move it.
CONFLICT_CODES = frozenset({AccountingCode.TRANSFER_OWNED_BY_MODULE})
NOT_FOUND_CODES = frozenset(
    {
        AccountingCode.DEBIT_ACCOUNT_NOT_FOUND,
        AccountingCode.CREDIT_ACCOUNT_NOT_FOUND,
        AccountingCode.PENDING_TRANSFER_NOT_FOUND,
        AccountingCode.REVERSAL_TRANSFER_NOT_FOUND,
    }
)


def _err(code: AccountingCode, message: str, field: str = "") -> TransferError:
    return TransferError(code, message, field)


def _bad_amount(amount: Any) -> TransferError | None:
    if isinstance(amount, bool) or not isinstance(amount, int):
        return _err(AccountingCode.AMOUNT_MUST_BE_AN_INTEGER, "amount must be an integer", "amount")
    if amount == 0:
        return _err(AccountingCode.AMOUNT_MUST_NOT_BE_ZERO, "amount must not be zero", "amount")
    if amount < 0:
        return _err(AccountingCode.AMOUNT_MUST_NOT_BE_NEGATIVE, "amount must be positive", "amount")
    if amount > MAX_AMOUNT:
        return _err(AccountingCode.OVERFLOW, f"amount must not exceed {MAX_AMOUNT}", "amount")
    return None


def metadata_problem(metadata: Mapping[str, Any]) -> str | None:
    """Why metadata cannot be stored and sealed (it is hashed as RFC 8785 JSON), or None."""
    if not metadata:
        return None
    written = written_problems(dict(metadata), "/metadata")
    if written:
        return f"{written[0].pointer}: {written[0].message}"
    unsafe = unsafe_numbers(dict(metadata))
    if unsafe:
        where, reason = unsafe[0]
        return f"metadata must be plain JSON (safe integers, finite numbers): {where}: {reason}"
    try:
        digest(dict(metadata))  # what sealing it takes (RFC 8785, which refuses what orjson would)
    except (CanonicalizationError, TypeError, ValueError) as exc:
        return f"metadata must be plain JSON (safe integers, finite numbers): {exc}"
    return None


@lru_cache(maxsize=1024)  # a module's transfer codes are a handful, repeated on every leg
def _code_problem(code: str) -> str | None:
    return invisible_character(code) or written_message(code)


def validate_request(
    req: TransferRequest,
    metadata_check: Callable[[Mapping[str, Any]], str | None] = metadata_problem,
) -> TransferError | None:
    """Refusals that depend on the request alone, in TigerBeetle's order. `metadata_check`:
    `metadata_problem`, or a planner's memo of it for a batch whose legs share one dict."""
    if not req.id or not req.id.strip() or len(req.id) > 128:
        return _err(AccountingCode.ID_MUST_NOT_BE_EMPTY, "id must be 1 to 128 characters", "id")
    problem = identifier_problem(req.id)
    if problem:
        return _err(AccountingCode.ID_INVALID, f"id {problem}", "id")
    if req.module is None and OWNER_KEY in req.metadata:
        return _err(
            AccountingCode.METADATA_INVALID,
            f"metadata key {OWNER_KEY!r} is reserved: it names the module that owns a transfer",
            f"metadata/{OWNER_KEY}",
        )
    problem = metadata_check(req.metadata)
    if problem:
        return _err(AccountingCode.METADATA_INVALID, problem, "metadata")
    # The code is sealed as given and exported in CSV statements: held to the id rule's
    # characters (no U+202E, no control), and to the personal-data rule like any value.
    problem = _code_problem(req.code)
    if problem:
        return _err(AccountingCode.CODE_INVALID, f"code {problem}", "code")
    f = req.flags
    if (f.pending + f.post_pending + f.void_pending) > 1:
        return _err(
            AccountingCode.FLAGS_ARE_MUTUALLY_EXCLUSIVE,
            "pending, post_pending and void_pending are mutually exclusive",
            "flags",
        )
    if req.reversal_of is not None and f.pending:
        # A reversal counts against the original's reversible amount when it is made; a
        # pending one that was then voided or expired (or posted for less) kept counting,
        # so the original could never be reversed in full again. A reversal is posted.
        return _err(
            AccountingCode.REVERSAL_MUST_NOT_BE_PENDING,
            "a reversal is posted at once; it cannot be a pending transfer",
            "flags",
        )
    if req.valid_from is not None and (f.pending or f.resolves_pending):
        # A hold lives in the present (it expires, it is posted or voided now); only a
        # posting can take effect in the past.
        return _err(
            AccountingCode.VALID_FROM_RESERVED_FOR_POSTED_TRANSFER,
            "valid_from applies to posted transfers only, not to holds or their resolution",
            "valid_from",
        )
    if req.ledger is not None and req.ledger not in LEDGERS:
        return _err(AccountingCode.LEDGER_UNKNOWN, f"unknown ledger {req.ledger!r}", "ledger")
    if req.timeout_seconds < 0:
        return _err(
            AccountingCode.TIMEOUT_MUST_NOT_BE_NEGATIVE, "timeout must be >= 0", "timeout_seconds"
        )
    if req.timeout_seconds and not f.pending:
        return _err(
            AccountingCode.TIMEOUT_RESERVED_FOR_PENDING_TRANSFER,
            "timeout_seconds only applies to pending transfers",
            "timeout_seconds",
        )
    if f.resolves_pending:
        if not req.pending_id:
            return _err(
                AccountingCode.PENDING_ID_MUST_NOT_BE_EMPTY, "pending_id is required", "pending_id"
            )
        if req.pending_id == req.id:
            return _err(
                AccountingCode.PENDING_ID_MUST_BE_DIFFERENT,
                "pending_id must differ from id",
                "pending_id",
            )
        if req.amount is not None:
            return _bad_amount(req.amount)
        return None
    if not req.debit_account_id:
        return _err(
            AccountingCode.DEBIT_ACCOUNT_ID_MUST_NOT_BE_EMPTY,
            "debit_account_id is required",
            "debit_account_id",
        )
    if not req.credit_account_id:
        return _err(
            AccountingCode.CREDIT_ACCOUNT_ID_MUST_NOT_BE_EMPTY,
            "credit_account_id is required",
            "credit_account_id",
        )
    if req.debit_account_id == req.credit_account_id:
        return _err(
            AccountingCode.ACCOUNTS_MUST_BE_DIFFERENT,
            "debit and credit accounts must be different",
            "credit_account_id",
        )
    return _bad_amount(req.amount)


def _not_the_owner(target: Transfer, req: TransferRequest, field: str) -> TransferError | None:
    """A transfer a module owns (a payment's hold, its posting, its reversal) moves only
    through that module: a tenant admin voiding a live payment's hold through /v1/transfers
    released the money while the payment was still paid out. (A module may still move a
    transfer nobody owns: holds placed before ownership was recorded carry no owner.)"""
    owner = owner_of(target)
    if owner is None or owner == req.module:
        return None
    return _err(
        AccountingCode.TRANSFER_OWNED_BY_MODULE,
        f"transfer {target.id} belongs to the {owner} module; it is posted, voided and "
        f"reversed only through {owner}",
        field,
    )


def _exists_mismatch(req: TransferRequest, old: Transfer) -> TransferError | None:
    """Idempotency: the same id must carry the same content (omitted fields aside)."""
    checks: list[tuple[str, Any, Any]] = [
        ("flags", req.flags, old.flags),
        ("pending_id", req.pending_id, old.pending_id),
        ("timeout_seconds", req.timeout_seconds, old.timeout_seconds),
        ("debit_account_id", req.debit_account_id, old.debit_account_id),
        ("credit_account_id", req.credit_account_id, old.credit_account_id),
        ("amount", req.amount, old.amount),
        ("ledger", req.ledger, old.ledger),
        ("code", req.code, old.code),
        ("reversal_of", req.reversal_of, old.reversal_of),
        ("metadata", stored_metadata(req), dict(old.metadata)),
        ("valid_from", req.valid_from, old.valid_from),
    ]
    optional = {"debit_account_id", "credit_account_id", "amount", "ledger"}
    for name, new, stored in checks:
        if name in optional and new is None:
            continue
        if new != stored:
            return _err(
                exists_with_different(name),
                f"transfer {old.id} exists with a different {name}",
                name,
            )
    return None


def transfer_payload(t: Transfer, action: str, released: int = 0) -> dict[str, Any]:
    """The ledger entry of a transfer: every field that moves money, metadata by digest only
    (client metadata may hold personal data; the ledger never does). Amounts are decimal
    strings because RFC 8785 numbers stop being exact above 2^53. Fields at their default
    (no flags, no pending or reversal reference, no timeout, nothing released, no metadata)
    are left out: hashing the entry is most of its cost."""
    payload: dict[str, Any] = {
        "action": action,
        "transfer_id": t.id,
        "debit_account_id": t.debit_account_id,
        "credit_account_id": t.credit_account_id,
        "amount": str(t.amount),
        "ledger": t.ledger,
        "code": t.code,
        "timestamp": isoformat(t.timestamp),
    }
    if released:
        payload["released"] = str(released)
    names = t.flags.names()
    if names:
        payload["flags"] = names
    if t.pending_id is not None:
        payload["pending_id"] = t.pending_id
    if t.timeout_seconds:
        payload["timeout_seconds"] = t.timeout_seconds
    if t.reversal_of is not None:
        payload["reversal_of"] = t.reversal_of
    if t.metadata:
        payload["metadata_digest"] = digest(dict(t.metadata))
    if t.valid_from is not None:
        payload["valid_from"] = isoformat(t.valid_from)
    if action == "expire" and t.resolved_at is not None:
        # When the sweep released the hold: the transfer row's resolved_at, rebuilt from here.
        payload["resolved_at"] = isoformat(t.resolved_at)
    return payload


class Planner:
    """Applies a batch to an in-memory overlay; the store writes the overlay's changes."""

    def __init__(
        self,
        tenant_id: str,
        accounts: Mapping[str, Account],
        transfers: Mapping[str, Transfer],
        now: datetime,
        history: ValidHistory | None = None,
    ) -> None:
        self.tenant_id = tenant_id
        self.now = now
        # The store's valid-time history, read in the writer's transaction (backdated
        # postings are checked against it); None: backdated postings are refused.
        self.history = history
        self.postings: list[Posting] = []
        self.accounts: dict[str, Account] = dict(accounts)
        self.transfers: dict[str, Transfer] = dict(transfers)
        self.changed_accounts: set[str] = set()
        self.new_transfers: dict[str, Transfer] = {}
        self.updated_transfers: dict[str, Transfer] = {}
        self.records: list[LedgerRecord] = []
        # id(metadata) -> (metadata, its problem): the legs of one booking share one dict,
        # checked once (the dict is kept, so its id cannot be reused meanwhile).
        self._metadata_checked: dict[int, tuple[Mapping[str, Any], str | None]] = {}

    # -- writes to the overlay ------------------------------------------------------

    def _metadata_problem(self, metadata: Mapping[str, Any]) -> str | None:
        checked = self._metadata_checked.get(id(metadata))
        if checked is not None and checked[0] is metadata:
            return checked[1]
        problem = metadata_problem(metadata)
        self._metadata_checked[id(metadata)] = (metadata, problem)
        return problem

    def _move(self, account_id: str, dp: int = 0, cp: int = 0, dpe: int = 0, cpe: int = 0) -> None:
        self.accounts[account_id] = self.accounts[account_id].with_totals(dp, cp, dpe, cpe)
        self.changed_accounts.add(account_id)

    def _save(self, t: Transfer, *, new: bool) -> None:
        self.transfers[t.id] = t
        if new or t.id in self.new_transfers:
            self.new_transfers[t.id] = t
        else:
            self.updated_transfers[t.id] = t

    def _record(self, t: Transfer, action: str, subject: str, released: int = 0) -> None:
        valid = min(t.valid_from, self.now) if t.valid_from is not None else None
        payload = transfer_payload(t, action, released)
        self.records.append(
            LedgerRecord("transfer", subject, self.tenant_id, payload, valid_from=valid)
        )

    def _post(self, t: Transfer, amount: int) -> None:
        """The two postings of a posted amount, valid from the transfer's valid time."""
        valid = min(t.valid_from or self.now, self.now)
        self.postings.append(
            Posting(self.tenant_id, t.debit_account_id, t.id, valid, self.now, amount, 0)
        )
        self.postings.append(
            Posting(self.tenant_id, t.credit_account_id, t.id, valid, self.now, 0, amount)
        )

    def expire(self, pending: Transfer) -> None:
        """Release an expired hold (the sweep, inside the same transaction as the batch)."""
        current = self.transfers.get(pending.id, pending)
        if current.state is not TransferState.PENDING:
            return
        self.transfers.setdefault(current.id, current)
        self._move(current.debit_account_id, dpe=-current.amount)
        self._move(current.credit_account_id, cpe=-current.amount)
        done = replace(current, state=TransferState.EXPIRED, resolved_at=self.now)
        self._save(done, new=False)
        self._record(done, "expire", done.id, released=done.amount)

    # -- deciding -----------------------------------------------------------------

    def _limits(self, debit: Account, credit: Account, amount: int) -> TransferError | None:
        if debit.flags.debits_must_not_exceed_credits and (
            debit.debits_posted + debit.debits_pending + amount > debit.credits_posted
        ):
            return _err(
                AccountingCode.EXCEEDS_CREDITS,
                f"debit account {debit.id} would have debits exceeding its credits",
                "amount",
            )
        if credit.flags.credits_must_not_exceed_debits and (
            credit.credits_posted + credit.credits_pending + amount > credit.debits_posted
        ):
            return _err(
                AccountingCode.EXCEEDS_DEBITS,
                f"credit account {credit.id} would have credits exceeding its debits",
                "amount",
            )
        for account, posted, pending in (
            (debit, debit.debits_posted, debit.debits_pending),
            (credit, credit.credits_posted, credit.credits_pending),
        ):
            if posted + pending + amount > MAX_AMOUNT:
                return _err(
                    AccountingCode.OVERFLOW, f"account {account.id} totals would overflow", "amount"
                )
        return None

    def _decide(self, req: TransferRequest) -> tuple[Transfer | None, bool, TransferError | None]:
        """(transfer, created, error) for one request against the overlay; no writes."""
        error = validate_request(req, self._metadata_problem)
        if error:
            return None, False, error
        old = self.transfers.get(req.id)
        if old is not None:
            mismatch = _exists_mismatch(req, old)
            return (None, False, mismatch) if mismatch else (old, False, None)
        if req.flags.resolves_pending:
            return self._decide_resolution(req)
        debit = self.accounts.get(req.debit_account_id or "")
        if debit is None:
            msg = f"debit account {req.debit_account_id} not found"
            return (
                None,
                False,
                _err(AccountingCode.DEBIT_ACCOUNT_NOT_FOUND, msg, "debit_account_id"),
            )
        credit = self.accounts.get(req.credit_account_id or "")
        if credit is None:
            msg = f"credit account {req.credit_account_id} not found"
            return (
                None,
                False,
                _err(AccountingCode.CREDIT_ACCOUNT_NOT_FOUND, msg, "credit_account_id"),
            )
        if debit.ledger != credit.ledger:
            msg = f"accounts are in different ledgers ({debit.ledger}, {credit.ledger})"
            return None, False, _err(AccountingCode.LEDGER_MUST_MATCH, msg, "credit_account_id")
        if req.ledger is not None and req.ledger != debit.ledger:
            msg = f"transfer ledger {req.ledger} differs from the accounts' {debit.ledger}"
            return None, False, _err(AccountingCode.LEDGER_MUST_MATCH, msg, "ledger")
        for account, name in ((debit, "debit_account_id"), (credit, "credit_account_id")):
            if account.flags.closed:
                return (
                    None,
                    False,
                    _err(AccountingCode.ACCOUNT_CLOSED, f"account {account.id} is closed", name),
                )
        amount = req.amount
        assert amount is not None
        if req.reversal_of is not None:
            refused = self._check_reversal(req, amount)
            if refused:
                return None, False, refused
        refused = self._limits(debit, credit, amount)
        if refused:
            return None, False, refused
        if req.valid_from is not None:
            refused = self._check_valid_time(req.valid_from, debit, credit, amount)
            if refused:
                return None, False, refused
        pending = req.flags.pending
        transfer = Transfer(
            id=req.id,
            tenant_id=self.tenant_id,
            debit_account_id=debit.id,
            credit_account_id=credit.id,
            amount=amount,
            ledger=debit.ledger,
            code=req.code,
            timestamp=self.now,
            state=TransferState.PENDING if pending else TransferState.POSTED,
            flags=req.flags,
            timeout_seconds=req.timeout_seconds,
            reversal_of=req.reversal_of,
            metadata=stored_metadata(req),
            expires_at=(
                self.now + timedelta(seconds=req.timeout_seconds)
                if pending and req.timeout_seconds
                else None
            ),
            valid_from=req.valid_from,
        )
        return transfer, True, None

    def _check_valid_time(
        self, valid_from: datetime, debit: Account, credit: Account, amount: int
    ) -> TransferError | None:
        """A backdated posting: not in the future, not before either account existed, and
        within each account's limit at every instant from `valid_from` to now."""
        if valid_from > self.now + FUTURE_SKEW:
            return _err(
                AccountingCode.VALID_FROM_IN_FUTURE,
                f"valid_from {isoformat(valid_from)} is in the future (now is "
                f"{isoformat(self.now)}); a posting takes effect now or in the past",
                "valid_from",
            )
        start = min(valid_from, self.now)
        for account in (debit, credit):
            if start < account.created_at:
                return _err(
                    AccountingCode.VALID_FROM_BEFORE_ACCOUNT_OPENED,
                    f"valid_from {isoformat(start)} is before account {account.id} was opened "
                    f"({isoformat(account.created_at)})",
                    "valid_from",
                )
        checks = (
            (
                debit,
                debit.flags.debits_must_not_exceed_credits,
                True,
                AccountingCode.EXCEEDS_CREDITS,
            ),
            (
                credit,
                credit.flags.credits_must_not_exceed_debits,
                False,
                AccountingCode.EXCEEDS_DEBITS,
            ),
        )
        for account, limited, debit_side, code in checks:
            if not limited:
                continue
            if self.history is None:
                return _err(
                    AccountingCode.VALID_FROM_UNSUPPORTED, "this store keeps no valid time", ""
                )
            steps = self.history.valid_steps(self.tenant_id, account.id, start)
            mine = [p for p in self.postings if p.account_id == account.id]
            breach = first_breach(steps, mine, amount, debit_side=debit_side)
            if breach is not None:
                side = "debits exceeding its credits" if debit_side else "credits exceeding debits"
                return TransferError(
                    code,
                    f"account {account.id} would have had {side} at {isoformat(breach.instant)} "
                    f"(it could take {max(breach.headroom, 0)} then, not {amount})",
                    "valid_from",
                    {"account_id": account.id, "instant": isoformat(breach.instant)},
                )
        return None

    def _check_reversal(self, req: TransferRequest, amount: int) -> TransferError | None:
        orig = self.transfers.get(req.reversal_of or "")
        if orig is None or orig.state is not TransferState.POSTED or orig.flags.pending:
            return _err(
                AccountingCode.REVERSAL_TRANSFER_NOT_FOUND,
                f"no posted transfer {req.reversal_of} to reverse",
                "reversal_of",
            )
        refused = _not_the_owner(orig, req, "reversal_of")
        if refused:
            return refused
        if (req.debit_account_id, req.credit_account_id) != (
            orig.credit_account_id,
            orig.debit_account_id,
        ):
            return _err(
                AccountingCode.REVERSAL_MUST_SWAP_ACCOUNTS,
                "a reversal debits the original credit account and credits its debit account",
                "debit_account_id",
            )
        if orig.reversed_amount + amount > orig.amount:
            return _err(
                AccountingCode.EXCEEDS_REVERSIBLE_AMOUNT,
                f"only {orig.amount - orig.reversed_amount} of {orig.id} is left to reverse",
                "amount",
            )
        return None

    def _decide_resolution(
        self, req: TransferRequest
    ) -> tuple[Transfer | None, bool, TransferError | None]:
        p = self.transfers.get(req.pending_id or "")
        if p is None:
            msg = f"pending transfer {req.pending_id} not found"
            return None, False, _err(AccountingCode.PENDING_TRANSFER_NOT_FOUND, msg, "pending_id")
        if not p.flags.pending:
            msg = f"transfer {p.id} is not a pending transfer"
            return None, False, _err(AccountingCode.PENDING_TRANSFER_NOT_PENDING, msg, "pending_id")
        refused = _not_the_owner(p, req, "pending_id")
        if refused:
            return None, False, refused
        for name in ("debit_account_id", "credit_account_id", "ledger"):
            given = getattr(req, name)
            if given is not None and given != getattr(p, name):
                msg = f"{name} differs from the pending transfer's"
                return (
                    None,
                    False,
                    _err(AccountingCode(f"pending_transfer_has_different_{name}"), msg, name),
                )
        state_errors = {
            TransferState.POSTED: AccountingCode.PENDING_TRANSFER_ALREADY_POSTED,
            TransferState.VOIDED: AccountingCode.PENDING_TRANSFER_ALREADY_VOIDED,
            TransferState.EXPIRED: AccountingCode.PENDING_TRANSFER_EXPIRED,
        }
        if p.state in state_errors:
            code = state_errors[p.state]
            msg = f"pending transfer {p.id} is already {p.state.value}"
            return None, False, _err(code, msg, "pending_id")
        if p.expires_at is not None and self.now >= p.expires_at:
            msg = f"pending transfer {p.id} expired at {isoformat(p.expires_at)}"
            return None, False, _err(AccountingCode.PENDING_TRANSFER_EXPIRED, msg, "pending_id")
        if req.flags.post_pending:
            amount = p.amount if req.amount is None else req.amount
            if amount > p.amount:
                msg = f"amount {amount} exceeds the pending amount {p.amount}"
                return (
                    None,
                    False,
                    _err(AccountingCode.EXCEEDS_PENDING_TRANSFER_AMOUNT, msg, "amount"),
                )
            for account_id, name in (
                (p.debit_account_id, "debit_account_id"),
                (p.credit_account_id, "credit_account_id"),
            ):
                if self.accounts[account_id].flags.closed:
                    return (
                        None,
                        False,
                        _err(
                            AccountingCode.ACCOUNT_CLOSED, f"account {account_id} is closed", name
                        ),
                    )
            state = TransferState.POSTED
        else:
            if req.amount is not None and req.amount != p.amount:
                msg = "a void releases the whole pending amount"
                return (
                    None,
                    False,
                    _err(AccountingCode.PENDING_TRANSFER_HAS_DIFFERENT_AMOUNT, msg, "amount"),
                )
            amount = p.amount
            state = TransferState.VOIDED
        transfer = Transfer(
            id=req.id,
            tenant_id=self.tenant_id,
            debit_account_id=p.debit_account_id,
            credit_account_id=p.credit_account_id,
            amount=amount,
            ledger=p.ledger,
            code=req.code,
            timestamp=self.now,
            state=state,
            flags=req.flags,
            pending_id=p.id,
            metadata=stored_metadata(req),
        )
        return transfer, True, None

    def _apply(self, t: Transfer) -> None:
        if t.flags.resolves_pending:
            p = self.transfers[t.pending_id or ""]
            self._move(t.debit_account_id, dpe=-p.amount)
            self._move(t.credit_account_id, cpe=-p.amount)
            if t.flags.post_pending:
                self._move(t.debit_account_id, dp=t.amount)
                self._move(t.credit_account_id, cp=t.amount)
                self._post(t, t.amount)
                final = TransferState.POSTED
            else:
                final = TransferState.VOIDED
            self._save(replace(p, state=final, resolved_at=self.now), new=False)
            action = "post_pending" if t.flags.post_pending else "void_pending"
            self._save(t, new=True)
            self._record(t, action, t.id, released=p.amount)
            return
        if t.flags.pending:
            self._move(t.debit_account_id, dpe=t.amount)
            self._move(t.credit_account_id, cpe=t.amount)
            action = "pending"
        else:
            self._move(t.debit_account_id, dp=t.amount)
            self._move(t.credit_account_id, cp=t.amount)
            self._post(t, t.amount)
            action = "post"
        if t.reversal_of is not None:
            orig = self.transfers[t.reversal_of]
            self._save(replace(orig, reversed_amount=orig.reversed_amount + t.amount), new=False)
        self._save(t, new=True)
        self._record(t, action, t.id)

    # -- batches --------------------------------------------------------------------

    def run(self, requests: Sequence[TransferRequest]) -> list[TransferResult]:
        """Decide and apply every request; a linked chain commits or fails as one."""
        results: list[TransferResult] = []
        i = 0
        while i < len(requests):
            end = i
            while end < len(requests) and requests[end].flags.linked:
                end += 1
            if end == i:
                t, created, error = self._decide(requests[i])
                if t is not None and created:
                    self._apply(t)
                results.append(TransferResult(i, t, created, error))
                i += 1
                continue
            results.extend(self._run_chain(requests, i, end))
            i = end + 1
        return results

    def _run_chain(
        self, requests: Sequence[TransferRequest], start: int, end: int
    ) -> list[TransferResult]:
        if end >= len(requests):  # the last transfer of the batch still says "linked"
            msg = "the last transfer of a linked chain must not carry the linked flag"
            open_chain = _err(AccountingCode.LINKED_EVENT_CHAIN_OPEN, msg, "flags")
            return [TransferResult(k, None, False, open_chain) for k in range(start, len(requests))]
        snapshot = (
            dict(self.accounts),
            dict(self.transfers),
            set(self.changed_accounts),
            dict(self.new_transfers),
            dict(self.updated_transfers),
            len(self.records),
            len(self.postings),
        )
        chain: list[TransferResult] = []
        failed_at: int | None = None
        for k in range(start, end + 1):
            t, created, error = self._decide(requests[k])
            if error is not None:
                failed_at = k
                chain.append(TransferResult(k, None, False, error))
                break
            if t is not None and created:
                self._apply(t)
            chain.append(TransferResult(k, t, created, None))
        if failed_at is None:
            return chain
        (
            self.accounts,
            self.transfers,
            self.changed_accounts,
            self.new_transfers,
            self.updated_transfers,
            n_records,
            n_postings,
        ) = snapshot
        del self.records[n_records:]
        del self.postings[n_postings:]
        linked = _err(
            AccountingCode.LINKED_EVENT_FAILED, "another transfer of the linked chain failed"
        )
        return [
            chain[k - start] if k == failed_at else TransferResult(k, None, False, linked)
            for k in range(start, end + 1)
        ]
