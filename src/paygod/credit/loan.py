"""A loan after disbursement: its instalments as they stand, and the states it may take.

The aggregate guards its transitions; the arithmetic of servicing it (allocation, early
repayment, days past due) lives in `servicing.py`, pure and exact.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date
from enum import StrEnum
from typing import Any, ClassVar

from paygod.credit.errors import CreditCode, in_state
from paygod.kernel.errors import Conflict


class LoanStatus(StrEnum):
    ACTIVE = "active"
    DEFAULTED = "defaulted"  # 90+ days past due (sticky: a cure does not undo it)
    REPAID = "repaid"
    WRITTEN_OFF = "written_off"


TRANSITIONS: Mapping[LoanStatus, frozenset[LoanStatus]] = {
    LoanStatus.ACTIVE: frozenset({LoanStatus.DEFAULTED, LoanStatus.REPAID}),
    LoanStatus.DEFAULTED: frozenset({LoanStatus.REPAID, LoanStatus.WRITTEN_OFF}),
    LoanStatus.REPAID: frozenset(),
    LoanStatus.WRITTEN_OFF: frozenset(),
}
CLOSED = frozenset({LoanStatus.REPAID, LoanStatus.WRITTEN_OFF})

# The event scheme continues the application's (PascalCase, version 1).
LOAN_DISBURSED = "LoanDisbursed"
REPAYMENT_RECEIVED = "RepaymentReceived"
LOAN_DELINQUENT = "LoanDelinquent"
LOAN_WRITTEN_OFF = "LoanWrittenOff"


class LoanClosed(Conflict):
    code: ClassVar[StrEnum] = CreditCode.LOAN_CLOSED


@dataclass(frozen=True, slots=True)
class Due:
    """One instalment: what the schedule asks on `due_date`, and what was paid of it."""

    n: int
    due_date: date
    interest: int
    principal: int
    interest_paid: int = 0
    principal_paid: int = 0
    late_fee: int = 0
    late_fee_paid: int = 0

    @property
    def unpaid(self) -> int:
        """Interest and principal still owed (fees are counted apart)."""
        return self.interest - self.interest_paid + self.principal - self.principal_paid

    @property
    def fee_unpaid(self) -> int:
        return self.late_fee - self.late_fee_paid

    def as_dict(self) -> dict[str, Any]:
        return {
            "n": self.n,
            "due_date": self.due_date.isoformat(),
            "interest": self.interest,
            "principal": self.principal,
            "interest_paid": self.interest_paid,
            "principal_paid": self.principal_paid,
            "late_fee": self.late_fee,
            "late_fee_paid": self.late_fee_paid,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Due:
        return cls(**{**data, "due_date": date.fromisoformat(str(data["due_date"]))})


@dataclass(frozen=True, slots=True)
class Loan:
    loan_id: str  # the accepted application's id: one loan per contract
    tenant_id: str
    borrower: str  # the principal who signed (scope `own` sees only these)
    applicant_ref: str
    product_id: str
    grade: str
    currency: str
    principal: int
    origination_fee: int
    annual_rate: str  # a decimal fraction, as in the signed offer
    frequency: str
    day_count: str
    rounding: str
    start: date  # interest accrues from here (the signed schedule's start)
    status: LoanStatus
    disbursed_at: str
    updated_at: str
    wallet_account: str
    receivable_account: str
    fees_account: str
    contract_digest: str
    instalments: tuple[Due, ...]
    # An early repayment between due dates: interest on the new balance accrues from this
    # date, and `carried_interest` (accrued before it and left unpaid) joins the next row.
    accrual_from: date | None = None
    carried_interest: int = 0
    bucket: str = "current"  # the last delinquency bucket recorded (events on a change)
    written_off: int = 0
    repayments: tuple[dict[str, Any], ...] = ()
    payout: dict[str, Any] | None = None
    version: int = 1

    @property
    def principal_outstanding(self) -> int:
        return sum(d.principal - d.principal_paid for d in self.instalments) - self.written_off

    @property
    def fees_outstanding(self) -> int:
        if self.status is LoanStatus.WRITTEN_OFF:
            return 0
        return sum(d.fee_unpaid for d in self.instalments)

    @property
    def closed(self) -> bool:
        return self.status in CLOSED

    def move_to(self, status: LoanStatus, at: str, **changes: Any) -> Loan:
        if status not in TRANSITIONS[self.status]:
            raise Conflict(
                f"loan {self.loan_id} is {self.status.value}; it cannot become {status.value}",
                code=in_state("loan", self.status),
            )
        return self.changed(at, status=status, **changes)

    def changed(self, at: str, **changes: Any) -> Loan:
        return replace(self, updated_at=at, version=self.version + 1, **changes)

    def repayment(self, repayment_id: str) -> dict[str, Any] | None:
        return next((r for r in self.repayments if r["repayment_id"] == repayment_id), None)

    def as_dict(self) -> dict[str, Any]:
        return {
            "loan_id": self.loan_id,
            "tenant_id": self.tenant_id,
            "borrower": self.borrower,
            "applicant_ref": self.applicant_ref,
            "product_id": self.product_id,
            "grade": self.grade,
            "currency": self.currency,
            "principal": self.principal,
            "origination_fee": self.origination_fee,
            "annual_rate": self.annual_rate,
            "frequency": self.frequency,
            "day_count": self.day_count,
            "rounding": self.rounding,
            "start": self.start.isoformat(),
            "status": self.status.value,
            "disbursed_at": self.disbursed_at,
            "updated_at": self.updated_at,
            "wallet_account": self.wallet_account,
            "receivable_account": self.receivable_account,
            "fees_account": self.fees_account,
            "contract_digest": self.contract_digest,
            "instalments": [d.as_dict() for d in self.instalments],
            "accrual_from": self.accrual_from.isoformat() if self.accrual_from else None,
            "carried_interest": self.carried_interest,
            "bucket": self.bucket,
            "written_off": self.written_off,
            "repayments": list(self.repayments),
            "payout": self.payout,
            "version": self.version,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Loan:
        values = dict(data)
        values["status"] = LoanStatus(values["status"])
        values["start"] = date.fromisoformat(values["start"])
        values["instalments"] = tuple(Due.from_dict(d) for d in values["instalments"])
        values["repayments"] = tuple(values.get("repayments") or ())
        accrual = values.get("accrual_from")
        values["accrual_from"] = date.fromisoformat(accrual) if accrual else None
        return cls(**values)
