"""Accounts and transfers (holds, their posting, voiding and expiry, reversals) from the
`account` and `transfer` entries the accounting service seals with every change."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from paygod.accounting.model import (
    Account,
    AccountCode,
    AccountFlags,
    Transfer,
    TransferFlags,
    TransferState,
)
from paygod.accounting.stores.sql import (
    ACCOUNT_COLUMNS,
    TRANSFER_COLUMNS,
    account_row,
    transfer_row,
)
from paygod.banking.projectors.base import Key, Projector, Row, Table
from paygod.kernel.clock import parse_instant
from paygod.ledger import Entry


def _columns(text: str) -> tuple[str, ...]:
    return tuple(c.strip() for c in text.split(","))


ACCOUNTS = Table(
    "accounting_accounts",
    _columns(ACCOUNT_COLUMNS),
    ("tenant_id", "id"),
    frozenset({"metadata"}),
)
TRANSFERS = Table(
    "accounting_transfers",
    _columns(TRANSFER_COLUMNS),
    ("tenant_id", "id"),
    frozenset({"metadata"}),
)
_RESOLVED = {"post_pending": TransferState.POSTED, "void_pending": TransferState.VOIDED}
# A batch of transfers shares one timestamp and a handful of flag combinations.
_instant = lru_cache(maxsize=4096)(parse_instant)


@lru_cache(maxsize=64)
def _transfer_flags(names: tuple[str, ...]) -> TransferFlags:
    return TransferFlags.from_names(names)


def _changed(
    t: Transfer, state: TransferState, resolved: datetime | None, reversed_: int
) -> Transfer:
    """`t` with a new state, resolved_at and reversed amount (the constructor directly:
    dataclasses.replace introspects the fields on every call)."""
    return Transfer(
        t.id, t.tenant_id, t.debit_account_id, t.credit_account_id, t.amount, t.ledger,
        t.code, t.timestamp, state, t.flags, t.pending_id, t.timeout_seconds, t.reversal_of,
        t.metadata, t.expires_at, resolved, reversed_,
    )  # fmt: skip


class AccountingProjector(Projector):
    name = "accounting"
    tables = (ACCOUNTS, TRANSFERS)
    kinds = frozenset({"account", "transfer"})

    def __init__(self, resolve: Any) -> None:
        super().__init__(resolve)
        self.accounts: dict[Key, Account] = {}
        self.transfers: dict[Key, Transfer] = {}
        # The metadata digest each row was last sealed with; resolved once, at `rows`.
        self.account_digest: dict[Key, str | None] = {}
        self.totals: dict[Key, list[int]] = {}
        self.transfer_digest: dict[Key, str | None] = {}

    def apply(self, entry: Entry) -> None:
        if entry.kind == "account":
            self._account(entry)
        else:
            self._transfer(entry)

    def _account(self, entry: Entry) -> None:
        p = entry.payload
        key = (entry.tenant_id, p["account_id"])
        flags = AccountFlags.from_names(p.get("flags") or ())
        old = self.accounts.get(key)
        if old is None:
            created = p.get("created_at")
            # Entries sealed before created_at was: the entry's own time (a commit later).
            at = parse_instant(created) if created else entry.recorded_at
            old = Account(p["account_id"], entry.tenant_id, p["ledger"], AccountCode(p["code"]), at)
            old = replace(old, owner=p.get("owner"))
        self.accounts[key] = replace(old, flags=flags)
        self.totals.setdefault(key, [0, 0, 0, 0])
        self.account_digest[key] = p.get("metadata_digest")
        self.touch(ACCOUNTS.name, key)

    def _move(self, tenant: str, account_id: str, dp: int, cp: int, dpe: int, cpe: int) -> None:
        key = (tenant, account_id)
        totals = self.totals[key]  # four ints, changed in place: no Account per move
        totals[0] += dp
        totals[1] += cp
        totals[2] += dpe
        totals[3] += cpe
        self.touch(ACCOUNTS.name, key)

    def _put(self, key: Key, transfer: Transfer) -> None:
        self.transfers[key] = transfer
        self.touch(TRANSFERS.name, key)

    def _transfer(self, entry: Entry) -> None:
        p = entry.payload
        tenant, action = entry.tenant_id, p["action"]
        debit, credit = p["debit_account_id"], p["credit_account_id"]
        amount, released = int(p["amount"]), int(p.get("released", "0"))
        key = (tenant, p["transfer_id"])
        if action == "expire":
            held = self.transfers[key]
            at = p.get("resolved_at")
            when = _instant(at) if at else entry.recorded_at
            self._put(key, _changed(held, TransferState.EXPIRED, when, held.reversed_amount))
            self._move(tenant, debit, 0, 0, -released, 0)
            self._move(tenant, credit, 0, 0, 0, -released)
            return
        flags = _transfer_flags(tuple(p.get("flags") or ()))
        at = _instant(p["timestamp"])
        timeout = int(p.get("timeout_seconds", 0))
        if action in _RESOLVED:
            state = _RESOLVED[action]
            hold_key = (tenant, p["pending_id"])
            held = self.transfers[hold_key]
            self._put(hold_key, _changed(held, state, at, held.reversed_amount))
            self._move(tenant, debit, 0, 0, -released, 0)
            self._move(tenant, credit, 0, 0, 0, -released)
        else:
            state = TransferState.PENDING if flags.pending else TransferState.POSTED
        if action in ("post", "post_pending"):
            self._move(tenant, debit, amount, 0, 0, 0)
            self._move(tenant, credit, 0, amount, 0, 0)
        elif action == "pending":
            self._move(tenant, debit, 0, 0, amount, 0)
            self._move(tenant, credit, 0, 0, 0, amount)
        reversal_of = p.get("reversal_of")
        if reversal_of is not None:
            orig_key = (tenant, reversal_of)
            orig = self.transfers[orig_key]
            total = orig.reversed_amount + amount
            self._put(orig_key, _changed(orig, orig.state, orig.resolved_at, total))
        expires: datetime | None = None
        if flags.pending and timeout:
            expires = at + timedelta(seconds=timeout)
        self.transfer_digest[key] = p.get("metadata_digest")
        self._put(
            key,
            Transfer(
                id=p["transfer_id"],
                tenant_id=tenant,
                debit_account_id=debit,
                credit_account_id=credit,
                amount=amount,
                ledger=p["ledger"],
                code=p["code"],
                timestamp=at,
                state=state,
                flags=flags,
                pending_id=p.get("pending_id"),
                timeout_seconds=timeout,
                reversal_of=reversal_of,
                expires_at=expires,
            ),
        )

    def rows(self, table: str) -> dict[Key, Row]:
        if table == ACCOUNTS.name:
            return {
                k: account_row(
                    replace(a, metadata=self.metadata(self.account_digest.get(k))).with_totals(
                        *self.totals[k]
                    )
                )
                for k, a in self.accounts.items()
            }
        out: dict[Key, Row] = {}
        for k, t in self.transfers.items():
            digest = self.transfer_digest.get(k)
            if digest:
                t = Transfer(
                    t.id, t.tenant_id, t.debit_account_id, t.credit_account_id, t.amount,
                    t.ledger, t.code, t.timestamp, t.state, t.flags, t.pending_id,
                    t.timeout_seconds, t.reversal_of, self.metadata(digest), t.expires_at,
                    t.resolved_at, t.reversed_amount,
                )  # fmt: skip
            out[k] = transfer_row(t)
        return out
