"""Credits (quota) on the accounting engine: tenants buy credits and consume them.

Each tenant has three accounts in the CREDITS ledger: `credits.balance` (what the tenant
holds; never negative), `credits.issued` (where purchases come from) and
`credits.consumed` (where usage goes). A reservation is a pending transfer with a TTL;
commit posts it (fully or partly), cancel voids it, expiry releases it. Every operation
takes an idempotency key, so a retried request never charges twice.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from paygod.accounting.errors import AccountingCode, IdempotencyKeyInvalid, PendingTransferNotFound
from paygod.accounting.model import (
    Account,
    AccountCode,
    AccountFlags,
    Transfer,
    TransferFlags,
    TransferRequest,
)
from paygod.accounting.service import AccountingService, AccountSpec, EventsHook, error_for
from paygod.kernel.errors import FieldError, InvalidInput, NotFound, PaymentRequired
from paygod.kernel.events import EventEnvelope
from paygod.kernel.identifiers import identifier_problem
from paygod.kernel.record_ids import new_id

LEDGER = "CREDITS"
BALANCE = "credits.balance"
ISSUED = "credits.issued"
CONSUMED = "credits.consumed"
MAX_TTL_SECONDS = 7 * 24 * 3600
MAX_KEY_LENGTH = 100
# Metadata key naming the principal a consumption or reservation was made by: the tenant
# shares one credits pool, but a reservation is its maker's (scope `own`).
REQUESTED_BY = "requested_by"


@dataclass(frozen=True, slots=True)
class CreditBalance:
    tenant_id: str
    balance: int
    reserved: int
    available: int
    low_balance_threshold: int | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "tenant_id": self.tenant_id,
            "balance": self.balance,
            "reserved": self.reserved,
            "available": self.available,
            "low_balance_threshold": self.low_balance_threshold,
        }


def _balance_of(tenant_id: str, a: Account) -> CreditBalance:
    threshold = a.metadata.get("low_balance_threshold")
    return CreditBalance(
        tenant_id,
        a.balance,
        a.debits_pending,
        a.available,
        threshold if isinstance(threshold, int) else None,
    )


def _key(key: str | None, operation: str) -> str:
    """A transfer id from the idempotency key; without a key every call is new."""
    if key is None:
        return f"credits.{operation}.{new_id()}"
    problem = idempotency_key_problem(key)
    if problem:
        raise IdempotencyKeyInvalid(
            f"idempotency key {problem}; nothing was recorded",
            errors=[FieldError("/idempotency_key", problem)],
        )
    return f"credits.{operation}.{key}"


def idempotency_key_problem(key: str) -> str | None:
    """Why `key` cannot name a credits operation; None when it can. The key becomes part
    of a transfer id (`credits.purchase.<key>`), so it is held to the id rule
    (kernel/identifiers.py): a U+202E or a tab in it was refused only as that transfer
    id, at a pointer (/id) the caller never sent."""
    if not key.strip() or len(key) > MAX_KEY_LENGTH:
        return f"must be 1 to {MAX_KEY_LENGTH} characters"
    return identifier_problem(key)


def _reservation(reservation_id: str) -> None:
    if not reservation_id.startswith("credits.reserve."):
        raise PendingTransferNotFound(f"reservation {reservation_id} not found")


def _requested(metadata: Mapping[str, Any] | None, by: str | None) -> dict[str, Any]:
    """The metadata with `requested_by` set to `by`; naming anyone else is refused, so a
    principal cannot consume or reserve in another's name."""
    doc = dict(metadata or {})
    if by is None:
        return doc
    if doc.get(REQUESTED_BY, by) != by:
        raise InvalidInput(
            "metadata.requested_by must name the caller; nothing was recorded",
            code=AccountingCode.REQUESTED_BY_NOT_CALLER,
            errors=[FieldError(f"/metadata/{REQUESTED_BY}", f"must be {by} or omitted")],
        )
    doc[REQUESTED_BY] = by
    return doc


class CreditsService:
    def __init__(self, accounting: AccountingService) -> None:
        self.accounting = accounting

    def ensure_accounts(self, tenant_id: str) -> None:
        with self.accounting.store.reading() as session:
            if len(session.get_accounts(tenant_id, [BALANCE, ISSUED, CONSUMED])) == 3:
                return
        self.accounting.open_accounts(
            tenant_id,
            [
                AccountSpec(
                    LEDGER,
                    AccountCode.LIABILITY,
                    id=BALANCE,
                    flags=AccountFlags(debits_must_not_exceed_credits=True),
                ),
                AccountSpec(LEDGER, AccountCode.EQUITY, id=ISSUED),
                AccountSpec(LEDGER, AccountCode.REVENUE, id=CONSUMED),
            ],
        )

    def balance(self, tenant_id: str) -> CreditBalance:
        try:
            account = self.accounting.get_account(tenant_id, BALANCE)
        except NotFound:
            return CreditBalance(tenant_id, 0, 0, 0, None)
        return _balance_of(tenant_id, account)

    def set_threshold(self, tenant_id: str, threshold: int | None) -> CreditBalance:
        self.ensure_accounts(tenant_id)
        account = self.accounting.update_metadata(
            tenant_id, BALANCE, {"low_balance_threshold": threshold}
        )
        return _balance_of(tenant_id, account)

    def _alerts(self, tenant_id: str) -> EventsHook:
        def hook(
            before: Mapping[str, Account], after: Mapping[str, Account]
        ) -> Sequence[EventEnvelope]:
            old, new = before.get(BALANCE), after.get(BALANCE)
            if old is None or new is None:
                return ()
            threshold = new.metadata.get("low_balance_threshold")
            if not isinstance(threshold, int) or not (old.available >= threshold > new.available):
                return ()
            now = self.accounting.clock.now()
            return (
                EventEnvelope(
                    event_type="credits.low_balance",
                    aggregate_id=BALANCE,
                    aggregate_type="credits",
                    tenant_id=tenant_id,
                    payload={"available": new.available, "threshold": threshold},
                    occurred_at=now,
                    recorded_at=now,
                ),
            )

        return hook

    def _move(self, tenant_id: str, request: TransferRequest) -> Transfer:
        result = self.accounting.create_transfers(
            tenant_id, [request], events=self._alerts(tenant_id)
        )[0]
        if result.error is not None:
            if result.error.code == AccountingCode.EXCEEDS_CREDITS:
                current = self.balance(tenant_id)
                needed = (request.amount or 0) - current.available
                raise PaymentRequired(
                    f"tenant {tenant_id} has {current.available} credits available; "
                    f"this needs {request.amount} ({needed} more). Buy credits and retry.",
                    errors=[FieldError("/amount", "exceeds the available credits")],
                    extra={
                        "available": current.available,
                        "requested": request.amount,
                        "shortfall": needed,
                    },
                )
            raise error_for(result.error)
        assert result.transfer is not None
        return result.transfer

    def purchase(
        self,
        tenant_id: str,
        amount: int,
        *,
        key: str | None = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> Transfer:
        self.ensure_accounts(tenant_id)
        return self._move(
            tenant_id,
            TransferRequest(
                _key(key, "purchase"),
                ISSUED,
                BALANCE,
                amount,
                LEDGER,
                "credits.purchase",
                metadata=dict(metadata or {}),
            ),
        )

    def consume(
        self,
        tenant_id: str,
        amount: int,
        *,
        key: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        requested_by: str | None = None,
    ) -> Transfer:
        metadata = _requested(metadata, requested_by)
        self.ensure_accounts(tenant_id)
        return self._move(
            tenant_id,
            TransferRequest(
                _key(key, "consume"),
                BALANCE,
                CONSUMED,
                amount,
                LEDGER,
                "credits.consume",
                metadata=dict(metadata or {}),
            ),
        )

    def reserve(
        self,
        tenant_id: str,
        amount: int,
        *,
        ttl_seconds: int,
        key: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        requested_by: str | None = None,
    ) -> Transfer:
        metadata = _requested(metadata, requested_by)
        if not 1 <= ttl_seconds <= MAX_TTL_SECONDS:
            raise InvalidInput(
                f"ttl_seconds must be between 1 and {MAX_TTL_SECONDS}",
                code=AccountingCode.TTL_INVALID,
                errors=[FieldError("/ttl_seconds", f"1 to {MAX_TTL_SECONDS}")],
            )
        self.ensure_accounts(tenant_id)
        return self._move(
            tenant_id,
            TransferRequest(
                _key(key, "reserve"),
                BALANCE,
                CONSUMED,
                amount,
                LEDGER,
                "credits.reserve",
                flags=TransferFlags(pending=True),
                timeout_seconds=ttl_seconds,
                metadata=dict(metadata or {}),
            ),
        )

    def _require_own(self, tenant_id: str, reservation_id: str, owner: str | None) -> None:
        """Scope `own`: another principal's reservation reads like a missing one."""
        _reservation(reservation_id)
        if owner is None:
            return
        try:
            held = self.accounting.get_transfer(tenant_id, reservation_id)
        except NotFound:
            held = None
        if held is None or held.metadata.get(REQUESTED_BY) != owner:
            raise PendingTransferNotFound(f"reservation {reservation_id} not found")

    def commit(
        self,
        tenant_id: str,
        reservation_id: str,
        *,
        amount: int | None = None,
        owner: str | None = None,
    ) -> Transfer:
        """Consume a reservation, fully or partly (the rest is released)."""
        self._require_own(tenant_id, reservation_id, owner)
        return self._move(
            tenant_id,
            TransferRequest(
                f"{reservation_id}.commit",
                amount=amount,
                code="credits.commit",
                flags=TransferFlags(post_pending=True),
                pending_id=reservation_id,
            ),
        )

    def cancel(self, tenant_id: str, reservation_id: str, *, owner: str | None = None) -> Transfer:
        self._require_own(tenant_id, reservation_id, owner)
        return self._move(
            tenant_id,
            TransferRequest(
                f"{reservation_id}.cancel",
                code="credits.cancel",
                flags=TransferFlags(void_pending=True),
                pending_id=reservation_id,
            ),
        )
