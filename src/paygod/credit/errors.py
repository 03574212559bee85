"""The credit module's error codes and its named errors.

An application or a loan asked to move from a state it cannot leave that way answers
`application-<state>` / `loan-<state>`: the code says which state it is in.
"""

from __future__ import annotations

from enum import StrEnum
from typing import ClassVar

from paygod.kernel.errors import Conflict


class CreditCode(StrEnum):
    CREDIT_ILLEGAL_TRANSITION = "credit-illegal-transition"
    OFFER_EXPIRED = "offer-expired"
    RATE_ABOVE_CAP = "rate-above-cap"
    ALREADY_BOOKED = "already-booked"
    LOAN_DISBURSED = "loan-disbursed"
    LOAN_CLOSED = "loan-closed"
    LOAN_CHANGED = "loan-changed"
    LOAN_NOT_DEFAULTED = "loan-not-defaulted"
    APPLICATION_CHANGED = "application-changed"
    APPLICATION_SUBMITTED = "application-submitted"
    APPLICATION_CHECKED = "application-checked"
    APPLICATION_ASSESSED = "application-assessed"
    APPLICATION_OFFERED = "application-offered"
    APPLICATION_DECLINED = "application-declined"
    APPLICATION_ACCEPTED = "application-accepted"
    APPLICATION_EXPIRED = "application-expired"
    APPLICATION_WITHDRAWN = "application-withdrawn"
    LOAN_ACTIVE = "loan-active"
    LOAN_DEFAULTED = "loan-defaulted"
    LOAN_REPAID = "loan-repaid"
    LOAN_WRITTEN_OFF = "loan-written-off"
    CREDIT_LINE_CLOSED = "credit-line-closed"
    CREDIT_LIMIT_EXCEEDED = "credit-limit-exceeded"
    CREDIT_LINE_BALANCE_OUTSTANDING = "credit-line-balance-outstanding"
    CREDIT_LINE_OVERPAYMENT = "credit-line-overpayment"
    NOT_A_TERM_LOAN = "not-a-term-loan"
    NOT_A_CREDIT_LINE = "not-a-credit-line"
    CREDIT_LINE_CHANGED = "credit-line-changed"


def in_state(kind: str, state: StrEnum) -> CreditCode:
    """`application-offered`, `loan-written-off`: the refusal of a thing in `state`."""
    return CreditCode(f"{kind}-{state.value.replace('_', '-')}")


class LoanDisbursed(Conflict):
    """The loan is already booked and paid out; a second disbursement records nothing."""

    code: ClassVar[StrEnum] = CreditCode.LOAN_DISBURSED
