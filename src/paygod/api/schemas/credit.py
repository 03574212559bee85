"""Success bodies of the credit routes (`api/routers/credit.py`). Amounts are integer minor
units; rates are decimal strings (a fraction, or a percent for the APR), never floats."""

from __future__ import annotations

from typing import Any

from paygod.api.receipts import Receipt
from paygod.api.schemas import Body


class Product(Body):
    product_id: str
    kind: str
    name: str
    min_amount: int
    max_amount: int
    min_payments: int
    max_payments: int
    frequency: str
    day_count: str
    rates: dict[str, str]
    rate_cap: str
    origination_fee_rate: str
    max_dti: str
    offer_ttl_days: int
    currencies: list[str]
    limits_by_grade: dict[str, int]
    late_fee: int
    late_fee_grace_days: int
    pd_by_grade: dict[str, str]
    lgd: str


class Products(Body):
    products: list[Product]


class Step(Body):
    """One sealed transition in the ledger."""

    seq: int
    recorded_at: str
    transition: str


class Application(Body):
    """A credit application; the person is a reference (`applicant_ref`), never raw data."""

    application_id: str
    tenant_id: str
    applicant: str
    applicant_ref: str
    product_id: str
    amount: int
    currency: str
    payments: int
    monthly_income: int
    monthly_debt: int
    status: str
    created_at: str
    updated_at: str
    version: int
    underwriting: dict[str, Any] | None
    checks: dict[str, Any] | None = None  # KYC, screening, account: outcomes and digests
    bureau: dict[str, Any] | None
    offer: dict[str, Any] | None
    contract: dict[str, Any] | None
    withdrawal: dict[str, Any] | None = None  # {withdrawn_by, withdrawn_at, from_status, reason}
    idempotency_key: str | None
    request_digest: str | None


class ApplicationWithHistory(Application):
    history: list[Step]


class Applications(Body):
    """A page, oldest first: `next_after` is the last id when the page is full (pass it as
    `after` for the next), else null."""

    applications: list[Application]
    next_after: str | None


class SealedApplication(Application):
    """The application after the change, with the receipt of its sealed version."""

    receipt: Receipt | None


class Instalment(Body):
    n: int
    due_date: str
    payment: int
    interest: int
    principal: int
    balance: int


class ScheduleTotals(Body):
    payments: int
    interest: int
    principal: int


class Schedule(Body):
    level_payment: int
    rows: list[Instalment]
    totals: ScheduleTotals


class Apr(Body):
    """Regulation Z Appendix J: a percent, rounded to the hundredth."""

    apr: str


class Due(Body):
    n: int
    due_date: str
    interest: int
    principal: int
    interest_paid: int
    principal_paid: int
    late_fee: int
    late_fee_paid: int


class NextDue(Due):
    amount_due: int


class Loan(Body):
    """A loan and what follows from it on the day asked (`as_of`)."""

    loan_id: str
    tenant_id: str
    borrower: str
    applicant_ref: str
    product_id: str
    grade: str
    currency: str
    principal: int
    origination_fee: int
    annual_rate: str
    frequency: str
    day_count: str
    rounding: str
    start: str
    status: str
    disbursed_at: str
    updated_at: str
    wallet_account: str
    receivable_account: str
    fees_account: str
    contract_digest: str
    instalments: list[Due]
    accrual_from: str | None
    carried_interest: int
    bucket: str
    written_off: int
    repayments: list[dict[str, Any]]
    payout: dict[str, Any] | None
    version: int
    as_of: str
    principal_outstanding: int
    fees_outstanding: int
    days_past_due: int
    delinquency_bucket: str
    payoff: int
    next_due: NextDue | None


class LoanWithHistory(Loan):
    history: list[Step]


class Loans(Body):
    loans: list[Loan]


class BucketFigures(Body):
    loans: int
    outstanding: int
    rate: str


class Book(Body):
    """One currency's book."""

    loans: int
    active: int
    repaid: int
    defaulted: int
    written_off: int
    principal_lent: int
    outstanding: int
    written_off_amount: int
    buckets: dict[str, BucketFigures]
    delinquency_rate: str
    expected_loss: int


class Portfolio(Body):
    tenant_id: str
    at: str
    on: str
    currencies: dict[str, Book]


class CreditLine(Body):
    """A revolving credit line and its figures on the day asked (`as_of`)."""

    line_id: str
    tenant_id: str
    borrower: str
    applicant_ref: str
    product_id: str
    grade: str
    currency: str
    credit_limit: int
    annual_rate: str
    status: str
    opened_at: str
    updated_at: str
    accrual_from: str
    wallet_account: str
    receivable_account: str
    contract_digest: str
    principal_balance: int
    accrued_interest: int
    history: list[dict[str, Any]]
    version: int
    available_credit: int
    minimum_payment: int
    as_of: str


class CreditLineWithHistory(CreditLine):
    transitions: list[Step]


class CreditLines(Body):
    lines: list[CreditLine]


class SealedCreditLine(CreditLine):
    """The line after opening or closing: `ledger` locates its sealed version, `receipt`
    proves what this request sealed."""

    ledger: dict[str, Any] | None = None
    receipt: Receipt | None


class SealedCreditMove(Body):
    """A draw or a repayment (`move`: its amount, and for a repayment the interest and
    principal it paid), the line after it, and the receipt (null on a replay)."""

    move: dict[str, Any]
    line: CreditLine
    ledger: dict[str, Any] | None = None
    receipt: Receipt | None
