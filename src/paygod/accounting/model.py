"""Accounts, transfers and their flags: TigerBeetle's data model in frozen dataclasses.

Amounts are Python ints in minor units, never floats. Every amount and every running
total stays within a signed 64-bit integer (`MAX_AMOUNT`), the widest column both
SQLite and PostgreSQL store exactly.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import datetime
from enum import StrEnum
from functools import lru_cache
from typing import Any, TypeVar

from paygod.accounting.errors import AccountingCode
from paygod.kernel.clock import isoformat as _isoformat
from paygod.kernel.events import EventEnvelope

MAX_AMOUNT = 2**63 - 1

# A batch shares one timestamp and a handful of flag combinations: format and introspect
# each once, not once per transfer.
isoformat = lru_cache(maxsize=4096)(_isoformat)


@lru_cache(maxsize=256)
def _names(flags: Any) -> tuple[str, ...]:
    return tuple(f.name for f in fields(flags) if getattr(flags, f.name))


@lru_cache(maxsize=256)
def _bits(flags: Any) -> int:
    return sum(1 << i for i, f in enumerate(fields(flags)) if getattr(flags, f.name))


# Flags are dataclasses of booleans: named in JSON, stored as bits in field order.
_Flags = TypeVar("_Flags", "AccountFlags", "TransferFlags")


def _named(flags: type[_Flags], names: Any, kind: str) -> _Flags:
    chosen = set(names or ())
    unknown = chosen - {f.name for f in fields(flags)}
    if unknown:
        raise ValueError(f"unknown {kind} flag {sorted(unknown)[0]!r}")
    return flags(**dict.fromkeys(chosen, True))


def _from_bits(flags: type[_Flags], bits: int) -> _Flags:
    return flags(**{f.name: bool(bits >> i & 1) for i, f in enumerate(fields(flags))})


class AccountCode(StrEnum):
    ASSET = "asset"
    LIABILITY = "liability"
    EQUITY = "equity"
    REVENUE = "revenue"
    EXPENSE = "expense"

    @property
    def debit_normal(self) -> bool:
        """Assets and expenses grow with debits; the others grow with credits."""
        return self in (AccountCode.ASSET, AccountCode.EXPENSE)


@dataclass(frozen=True, slots=True)
class AccountFlags:
    debits_must_not_exceed_credits: bool = False
    credits_must_not_exceed_debits: bool = False
    closed: bool = False

    @classmethod
    def from_names(cls, names: Any) -> AccountFlags:
        return _named(cls, names, "account")

    def names(self) -> list[str]:
        return list(_names(self))

    def bits(self) -> int:
        return _bits(self)

    @classmethod
    def from_bits(cls, bits: int) -> AccountFlags:
        return _from_bits(cls, bits)


@dataclass(frozen=True, slots=True)
class Account:
    id: str
    tenant_id: str
    ledger: str
    code: AccountCode
    created_at: datetime
    flags: AccountFlags = AccountFlags()
    metadata: Mapping[str, Any] = field(default_factory=dict)
    debits_posted: int = 0
    credits_posted: int = 0
    debits_pending: int = 0
    credits_pending: int = 0
    # The principal the account belongs to (an agent's wallet), or None for the tenant's own
    # books. Principals whose scope is `own` see and pay from their accounts only.
    owner: str | None = None

    @property
    def balance(self) -> int:
        """Posted balance on the account's normal side (assets: debits − credits)."""
        diff = self.debits_posted - self.credits_posted
        return diff if self.code.debit_normal else -diff

    @property
    def available(self) -> int:
        """What a new hold may still take, pending amounts counted against the account."""
        if self.code.debit_normal:
            return self.debits_posted - self.credits_posted - self.credits_pending
        return self.credits_posted - self.debits_posted - self.debits_pending

    def with_totals(self, dp: int, cp: int, dpe: int, cpe: int) -> Account:
        # The constructor directly: dataclasses.replace introspects fields on every call.
        return Account(
            self.id,
            self.tenant_id,
            self.ledger,
            self.code,
            self.created_at,
            self.flags,
            self.metadata,
            self.debits_posted + dp,
            self.credits_posted + cp,
            self.debits_pending + dpe,
            self.credits_pending + cpe,
            self.owner,
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "tenant_id": self.tenant_id,
            "ledger": self.ledger,
            "code": self.code.value,
            "flags": self.flags.names(),
            "metadata": dict(self.metadata),
            "owner": self.owner,
            "created_at": isoformat(self.created_at),
            "debits_posted": self.debits_posted,
            "credits_posted": self.credits_posted,
            "debits_pending": self.debits_pending,
            "credits_pending": self.credits_pending,
            "balance": self.balance,
            "available": self.available,
        }


@dataclass(frozen=True, slots=True)
class TransferFlags:
    pending: bool = False
    post_pending: bool = False
    void_pending: bool = False
    linked: bool = False

    @classmethod
    def from_names(cls, names: Any) -> TransferFlags:
        return _named(cls, names, "transfer")

    def names(self) -> list[str]:
        if not (self.pending or self.post_pending or self.void_pending or self.linked):
            return []  # the common case, without hashing the flags for the cache
        return list(_names(self))

    def bits(self) -> int:
        if not (self.pending or self.post_pending or self.void_pending or self.linked):
            return 0
        return _bits(self)

    @classmethod
    def from_bits(cls, bits: int) -> TransferFlags:
        return _from_bits(cls, bits)

    @property
    def resolves_pending(self) -> bool:
        return self.post_pending or self.void_pending


class TransferState(StrEnum):
    """`pending` holds end `posted`, `voided` or `expired`; every other transfer is final."""

    POSTED = "posted"
    PENDING = "pending"
    VOIDED = "voided"
    EXPIRED = "expired"


@dataclass(frozen=True, slots=True)
class TransferRequest:
    """What a client asks for. For post/void, accounts, ledger and amount may be omitted."""

    id: str
    debit_account_id: str | None = None
    credit_account_id: str | None = None
    amount: int | None = None
    ledger: str | None = None
    code: str = "transfer"
    flags: TransferFlags = TransferFlags()
    pending_id: str | None = None
    timeout_seconds: int = 0
    reversal_of: str | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict)
    # The module asking on its own behalf (payments for a payment's hold); None for a
    # user's request through the API or CLI. A transfer a module creates is owned by it
    # (`OWNER_KEY` in its metadata): only that module may post, void or reverse it.
    module: str | None = None
    # Valid time (a backdated posting): when the transfer takes effect in the books, if
    # earlier than now. Checked against the account limits at every instant since then.
    valid_from: datetime | None = None


# The metadata key naming the module that owns a transfer; users may not set it.
OWNER_KEY = "owned_by"


def owner_of(transfer: Transfer) -> str | None:
    owner = transfer.metadata.get(OWNER_KEY)
    return owner if isinstance(owner, str) else None


def stored_metadata(request: TransferRequest) -> dict[str, Any]:
    """The metadata a request's transfer is stored with: the owning module stamped in."""
    if request.module is None:
        return dict(request.metadata)
    return {**request.metadata, OWNER_KEY: request.module}


@dataclass(frozen=True, slots=True)
class Transfer:
    id: str
    tenant_id: str
    debit_account_id: str
    credit_account_id: str
    amount: int
    ledger: str
    code: str
    timestamp: datetime
    state: TransferState
    flags: TransferFlags = TransferFlags()
    pending_id: str | None = None
    timeout_seconds: int = 0
    reversal_of: str | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict)
    expires_at: datetime | None = None
    resolved_at: datetime | None = None
    reversed_amount: int = 0
    # A backdated transfer's valid time; None: valid from its timestamp (recorded time).
    valid_from: datetime | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "tenant_id": self.tenant_id,
            "debit_account_id": self.debit_account_id,
            "credit_account_id": self.credit_account_id,
            "amount": self.amount,
            "ledger": self.ledger,
            "code": self.code,
            "flags": self.flags.names(),
            "pending_id": self.pending_id,
            "timeout_seconds": self.timeout_seconds,
            "reversal_of": self.reversal_of,
            "metadata": dict(self.metadata),
            "timestamp": isoformat(self.timestamp),
            "state": self.state.value,
            "expires_at": isoformat(self.expires_at) if self.expires_at else None,
            "resolved_at": isoformat(self.resolved_at) if self.resolved_at else None,
            "reversed_amount": self.reversed_amount,
            "valid_from": isoformat(self.valid_from) if self.valid_from else None,
        }


@dataclass(frozen=True, slots=True)
class TransferError:
    """Why one transfer of a batch was refused: a stable code and the offending field."""

    code: AccountingCode
    message: str
    field: str = ""
    # Facts a client acts on (the account and instant a backdated posting would breach).
    detail: Mapping[str, Any] | None = None

    @property
    def pointer(self) -> str:
        return f"/{self.field}" if self.field else ""


@dataclass(frozen=True, slots=True)
class TransferResult:
    """One transfer's outcome: created now, found identical (idempotent retry), or refused."""

    index: int
    transfer: Transfer | None = None
    created: bool = False
    error: TransferError | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass(frozen=True, slots=True)
class LedgerRecord:
    """A ledger entry the accounting engine wants written with its balance changes."""

    kind: str
    subject: str
    tenant_id: str
    payload: Mapping[str, Any]
    events: tuple[EventEnvelope, ...] = ()
    # A backdated transfer's entry is valid from then in the ledger's own valid time too.
    valid_from: datetime | None = None


@dataclass(frozen=True, slots=True)
class PeriodStatement:
    """One account's totals at a period's end, with the salt that hides it in the tree."""

    tenant_id: str
    period: str
    position: int
    account_id: str
    ledger: str
    debits: int
    credits: int
    salt: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "tenant_id": self.tenant_id,
            "period": self.period,
            "account_id": self.account_id,
            "ledger": self.ledger,
            "debits": str(self.debits),
            "credits": str(self.credits),
            "salt": self.salt,
        }


@dataclass(frozen=True, slots=True)
class Period:
    tenant_id: str
    period: str
    until: datetime
    closed_at: datetime
    root_hash: str
    sums: dict[str, list[str]]
    accounts: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "tenant_id": self.tenant_id,
            "period": self.period,
            "until": isoformat(self.until),
            "closed_at": isoformat(self.closed_at),
            "root_hash": self.root_hash,
            "sums": self.sums,
            "accounts": self.accounts,
        }
