"""A mandate's allowance as accounting accounts, so spending against it is a hold.

Granting opens `mandate-<id>` (flag debits_must_not_exceed_credits) in the mandate's
currency and credits it with the budget from the tenant's `mandates-granted-<CUR>`; a
payment under the mandate places a pending transfer from it to `mandates-spent-<CUR>`,
linked in one accounting batch with the payment's own hold (payments/holds.py), inside the
ledger's serialised write. Accounting refuses a debit beyond the credits, so concurrent
payments can never spend more than the budget: the check and the hold are one write.
The same holds for a count of payments (`mandate-<id>-uses`, in the CREDITS ledger, funded
with the number of payments allowed: single use is 1) and for a per-period budget
(`mandate-<id>-<period>`, opened and funded the first time the period is used).
A payment that fails voids its holds (the allowance returns); a settled one posts them.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from paygod.accounting import AccountingService
from paygod.kernel.clock import Clock
from paygod.kernel.errors import PaygodError, Rejected
from paygod.mandates.errors import Refusal, mandate_refused
from paygod.mandates.model import Mandate, PaymentUnderMandate, Period

COUNT_LEDGER = "CREDITS"
MODULE = "payments"  # holds belong to the payment's lifecycle: payments posts or voids them


def allowance_account(mandate_id: str) -> str:
    return f"mandate-{mandate_id}"


def uses_account(mandate_id: str) -> str:
    return f"mandate-{mandate_id}-uses"


def period_key(period: Period, at: datetime) -> str:
    if period is Period.DAY:
        return at.strftime("%Y-%m-%d")
    if period is Period.WEEK:
        year, week, _ = at.isocalendar()
        return f"{year}-W{week:02d}"
    return at.strftime("%Y-%m")


def period_account(mandate_id: str, key: str) -> str:
    return f"mandate-{mandate_id}-{key}"


class Allowance:
    """Accounting's side of mandates: the accounts, their funding and the payment holds."""

    def __init__(self, accounting: AccountingService, clock: Clock) -> None:
        self.accounting = accounting
        self.clock = clock

    def _specs(self, tenant_id: str, ledger: str, ids: list[tuple[str, bool]]) -> list[Any]:
        from paygod.accounting import AccountCode, AccountFlags
        from paygod.accounting.service import AccountSpec

        return [
            AccountSpec(
                ledger=ledger,
                code=AccountCode.LIABILITY if limited else AccountCode.EQUITY,
                id=account,
                flags=AccountFlags(debits_must_not_exceed_credits=limited),
                metadata={"purpose": "mandate allowance"},
            )
            for account, limited in ids
        ]

    def _fund(self, conn: Any, tenant_id: str, ledger: str, account: str, amount: int) -> list[Any]:
        from paygod.accounting import TransferRequest
        from paygod.accounting.service import error_for

        _, opened = self.accounting.open_accounts_in(
            conn,
            tenant_id,
            self._specs(
                tenant_id, ledger, [(f"mandates-granted-{ledger}", False), (account, True)]
            ),
        )
        (result,), drafts = self.accounting.create_transfers_in(
            conn,
            tenant_id,
            [
                TransferRequest(
                    id=f"{account}.fund",
                    debit_account_id=f"mandates-granted-{ledger}",
                    credit_account_id=account,
                    amount=amount,
                    ledger=ledger,
                    code="mandate_grant",
                    module="mandates",
                )
            ],
        )
        if result.error is not None:
            raise error_for(result.error)
        return [*opened, *drafts]

    def open(self, conn: Any, mandate: Mandate) -> list[Any]:
        """The mandate's accounts, funded: in the transaction that seals its grant."""
        c = mandate.constraints
        drafts = self._fund(
            conn, mandate.tenant_id, c.currency, allowance_account(mandate.mandate_id), c.budget
        )
        if c.payment_cap is not None:
            drafts += self._fund(
                conn,
                mandate.tenant_id,
                COUNT_LEDGER,
                uses_account(mandate.mandate_id),
                c.payment_cap,
            )
        return drafts

    def _period(self, conn: Any, mandate: Mandate, at: datetime) -> tuple[str | None, list[Any]]:
        c = mandate.constraints
        if c.period is None or c.per_period is None:
            return None, []
        account = period_account(mandate.mandate_id, period_key(c.period, at))
        funded = self.accounting.get_transfer_in(conn, mandate.tenant_id, f"{account}.fund")
        if funded is not None:
            return account, []
        return account, self._fund(conn, mandate.tenant_id, c.currency, account, c.per_period)

    def holds(
        self, conn: Any, mandate: Mandate, payment_id: str, amount: int
    ) -> tuple[list[Any], list[Any]]:
        """(the linked pending transfers, drafts of the period account opened for them)."""
        from paygod.accounting import TransferFlags, TransferRequest

        period, drafts = self._period(conn, mandate, self.clock.now())
        plan: list[tuple[str, str, str, int]] = [
            (
                f"{payment_id}.mandate",
                allowance_account(mandate.mandate_id),
                mandate.constraints.currency,
                amount,
            )
        ]
        if mandate.constraints.payment_cap is not None:
            plan.append(
                (f"{payment_id}.mandate-use", uses_account(mandate.mandate_id), COUNT_LEDGER, 1)
            )
        if period is not None:
            plan.append(
                (f"{payment_id}.mandate-period", period, mandate.constraints.currency, amount)
            )
        requests = [
            TransferRequest(
                id=transfer_id,
                debit_account_id=account,
                credit_account_id=f"mandates-spent-{ledger}",
                amount=value,
                ledger=ledger,
                code="mandate_hold",
                flags=TransferFlags(pending=True, linked=i < len(plan) - 1),
                metadata={"mandate_id": mandate.mandate_id, "payment_id": payment_id},
                module=MODULE,
            )
            for i, (transfer_id, account, ledger, value) in enumerate(plan)
        ]
        spent = {ledger for _, _, ledger, _ in plan}
        specs = [s for ledger in sorted(spent) for s in self._spent_specs(ledger)]
        _, opened = self.accounting.open_accounts_in(conn, mandate.tenant_id, specs)
        return requests, [*drafts, *opened]

    def _spent_specs(self, ledger: str) -> list[Any]:
        from paygod.accounting import AccountCode
        from paygod.accounting.service import AccountSpec

        return [
            AccountSpec(
                ledger=ledger,
                code=AccountCode.EXPENSE,
                id=f"mandates-spent-{ledger}",
                metadata={"purpose": "spent under mandates"},
            )
        ]

    def hold_ids(self, conn: Any, mandate: Mandate, payment_id: str) -> list[str]:
        ids = [f"{payment_id}.mandate"]
        if mandate.constraints.payment_cap is not None:
            ids.append(f"{payment_id}.mandate-use")
        if mandate.constraints.period is not None and mandate.constraints.per_period is not None:
            ids.append(f"{payment_id}.mandate-period")
        found = [i for i in ids if self.accounting.get_transfer_in(conn, mandate.tenant_id, i)]
        return found

    def remaining(self, mandate: Mandate, read: Callable[[str, str], int | None]) -> dict[str, Any]:
        """What is left: of the budget, of the period's budget, of the payments allowed.
        `read(tenant, account)` is an account's available balance (credits - debits, holds
        included), None if it does not exist yet."""
        c = mandate.constraints
        budget = read(mandate.tenant_id, allowance_account(mandate.mandate_id))
        out: dict[str, Any] = {"remaining_minor": budget if budget is not None else 0}
        if c.period is not None and c.per_period is not None:
            key = period_key(c.period, self.clock.now())
            left = read(mandate.tenant_id, period_account(mandate.mandate_id, key))
            out["period"] = key
            out["period_remaining_minor"] = c.per_period if left is None else left
            out["remaining_minor"] = min(out["remaining_minor"], out["period_remaining_minor"])
        if c.payment_cap is not None:
            uses = read(mandate.tenant_id, uses_account(mandate.mandate_id))
            out["payments_left"] = uses if uses is not None else 0
        return out


def refusal(reason: Refusal, detail: str) -> PaygodError:
    return Rejected(detail, code=mandate_refused(reason))


__all__ = ["Allowance", "PaymentUnderMandate", "refusal"]
