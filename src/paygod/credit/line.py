"""A revolving credit line: its balance, its interest and the moves it allows. Pure and
exact (`decimal`, minor units); no I/O.

The rules, stated once:

- interest is daily simple interest on the principal balance, actual/365: over a period in
  which the balance does not change, `balance × annual_rate × days / 365`, rounded half-even
  to a minor unit once for that period. A period ends at every balance change (a draw or a
  repayment): its rounded interest is added to `accrued_interest`, kept as exact minor
  units, and the next period starts on that date. Interest to a date is the accrued
  interest plus the open period's, rounded the same way;
- a draw moves money within the available credit (`credit_limit − principal_balance`);
  more is refused and nothing changes;
- a repayment pays the interest accrued to its date first, then principal. More than is
  owed (interest to date + principal balance) is refused and nothing changes;
- the minimum payment is `max(interest to date + 1 % of the principal balance (rounded
  half-even), 25.00)`, never more than what is owed (0 when nothing is owed);
- a line closes only with no principal and no interest owed; a closed line takes no draw
  and no repayment.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Any, ClassVar

from paygod.credit.calendar import DayCount
from paygod.credit.errors import CreditCode
from paygod.credit.schedule import Rounding, accrued_interest
from paygod.kernel.errors import Conflict

MINIMUM_PAYMENT_FLOOR = 2_500  # minor units: 25.00
MINIMUM_PRINCIPAL_SHARE = Decimal("0.01")
DAY_COUNT = DayCount.ACTUAL_365
ROUNDING = Rounding.HALF_EVEN

# The event scheme continues the loan's (PascalCase, version 1); a repayment on a line is a
# `RepaymentReceived` with aggregate_type `credit_line`.
CREDIT_LINE_OPENED = "CreditLineOpened"
CREDIT_DRAWN = "CreditDrawn"
CREDIT_LINE_CLOSED = "CreditLineClosed"


class LineStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class CreditLineClosed(Conflict):
    code: ClassVar[StrEnum] = CreditCode.CREDIT_LINE_CLOSED


class CreditLimitExceeded(Conflict):
    code: ClassVar[StrEnum] = CreditCode.CREDIT_LIMIT_EXCEEDED


class BalanceOutstanding(Conflict):
    code: ClassVar[StrEnum] = CreditCode.CREDIT_LINE_BALANCE_OUTSTANDING


class LineOverpayment(Conflict):
    """More than the line's principal and interest owed on that date."""

    code: ClassVar[StrEnum] = CreditCode.CREDIT_LINE_OVERPAYMENT


class BackdatedMove(ValueError):
    """A move dated before the line's last balance change: periods would overlap."""


def period_interest(balance: int, annual_rate: Decimal, start: date, end: date) -> int:
    """One accrual period's interest, rounded by the line's rule."""
    if balance == 0 or end <= start:
        return 0
    return ROUNDING.to_minor(accrued_interest(balance, annual_rate, DAY_COUNT, start, end))


@dataclass(frozen=True, slots=True)
class CreditLine:
    line_id: str  # the accepted application's id: one line per contract
    tenant_id: str
    borrower: str
    applicant_ref: str
    product_id: str
    grade: str
    currency: str
    credit_limit: int
    annual_rate: str  # a decimal fraction, as in the signed offer
    status: LineStatus
    opened_at: str
    updated_at: str
    accrual_from: date  # the open period starts here (the last balance change)
    wallet_account: str = ""
    receivable_account: str = ""
    contract_digest: str = ""
    principal_balance: int = 0
    accrued_interest: int = 0  # rounded interest of the closed periods, still unpaid
    history: tuple[dict[str, Any], ...] = ()
    version: int = 1

    @property
    def rate(self) -> Decimal:
        return Decimal(self.annual_rate)

    @property
    def available_credit(self) -> int:
        return self.credit_limit - self.principal_balance

    @property
    def closed(self) -> bool:
        return self.status is LineStatus.CLOSED

    def interest_to(self, on: date) -> int:
        """Interest owed on `on`: the closed periods' and the open one's."""
        return self.accrued_interest + period_interest(
            self.principal_balance, self.rate, self.accrual_from, on
        )

    def owed(self, on: date) -> int:
        return self.principal_balance + self.interest_to(on)

    def minimum_payment(self, on: date) -> int:
        owed = self.owed(on)
        share = ROUNDING.to_minor(Decimal(self.principal_balance) * MINIMUM_PRINCIPAL_SHARE)
        return min(owed, max(self.interest_to(on) + share, MINIMUM_PAYMENT_FLOOR))

    def _open_on(self, on: date) -> None:
        if self.closed:
            raise CreditLineClosed(f"credit line {self.line_id} is closed")
        if on < self.accrual_from:
            raise BackdatedMove(f"{on} is before the line's last change {self.accrual_from}")

    def draw(self, amount: int, on: date, at: str, record: Mapping[str, Any]) -> CreditLine:
        """The line after drawing `amount` on `on`; refused beyond the available credit."""
        self._open_on(on)
        if amount <= 0:
            raise ValueError("a draw is a positive amount")
        if amount > self.available_credit:
            raise CreditLimitExceeded(
                f"a draw of {amount} exceeds the available credit {self.available_credit}"
            )
        return self.changed(
            at,
            accrued_interest=self.interest_to(on),
            accrual_from=on,
            principal_balance=self.principal_balance + amount,
            history=(*self.history, {**record, "kind": "draw", "amount": amount}),
        )

    def repay(
        self, amount: int, on: date, at: str, record: Mapping[str, Any]
    ) -> tuple[CreditLine, int, int]:
        """The line after a repayment on `on`, and the interest and principal it paid."""
        self._open_on(on)
        if amount <= 0:
            raise ValueError("a repayment is a positive amount")
        interest = self.interest_to(on)
        owed = interest + self.principal_balance
        if amount > owed:
            raise LineOverpayment(f"a repayment of {amount} exceeds what is owed, {owed}")
        interest_paid = min(amount, interest)
        principal_paid = amount - interest_paid
        entry = {
            **record,
            "kind": "repayment",
            "amount": amount,
            "interest": interest_paid,
            "principal": principal_paid,
        }
        line = self.changed(
            at,
            accrued_interest=interest - interest_paid,
            accrual_from=on,
            principal_balance=self.principal_balance - principal_paid,
            history=(*self.history, entry),
        )
        return line, interest_paid, principal_paid

    def close(self, on: date, at: str) -> CreditLine:
        self._open_on(on)
        if self.owed(on):
            raise BalanceOutstanding(
                f"credit line {self.line_id} still owes {self.owed(on)}; it cannot close"
            )
        return self.changed(at, status=LineStatus.CLOSED, accrual_from=on)

    def changed(self, at: str, **changes: Any) -> CreditLine:
        return replace(self, updated_at=at, version=self.version + 1, **changes)

    def move(self, move_id: str) -> dict[str, Any] | None:
        return next((m for m in self.history if m.get("move_id") == move_id), None)

    def view(self, on: date) -> dict[str, Any]:
        """The line as shown on `on`: its stored state and the figures to that date."""
        return {
            **self.as_dict(),
            "accrued_interest": self.interest_to(on),
            "available_credit": self.available_credit,
            "minimum_payment": self.minimum_payment(on),
            "as_of": on.isoformat(),
        }

    def as_dict(self) -> dict[str, Any]:
        return {
            "line_id": self.line_id,
            "tenant_id": self.tenant_id,
            "borrower": self.borrower,
            "applicant_ref": self.applicant_ref,
            "product_id": self.product_id,
            "grade": self.grade,
            "currency": self.currency,
            "credit_limit": self.credit_limit,
            "annual_rate": self.annual_rate,
            "status": self.status.value,
            "opened_at": self.opened_at,
            "updated_at": self.updated_at,
            "accrual_from": self.accrual_from.isoformat(),
            "wallet_account": self.wallet_account,
            "receivable_account": self.receivable_account,
            "contract_digest": self.contract_digest,
            "principal_balance": self.principal_balance,
            "accrued_interest": self.accrued_interest,
            "history": list(self.history),
            "version": self.version,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CreditLine:
        values = dict(data)
        values["status"] = LineStatus(values["status"])
        values["accrual_from"] = date.fromisoformat(values["accrual_from"])
        values["history"] = tuple(values.get("history") or ())
        return cls(**values)
