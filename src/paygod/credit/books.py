"""A loan in double entry, through accounting (inside the loan's own ledger transaction).

Accounts (opened on first use, idempotent by id, as payments opens its clearing account):

| account | code | what |
|---|---|---|
| `credit-loan-<loan>` | asset | the principal the borrower owes (never below zero) |
| `credit-loan-fees-<loan>` | asset | late fees charged and not yet paid |
| `credit-wallet-<loan>` | liability, owned by the borrower | what the loan paid out to them |
| `credit-fee-income-<CUR>` | revenue | origination and late fees |
| `credit-interest-income-<CUR>` | revenue | interest, when collected |
| `credit-loan-losses-<CUR>` | expense | principal and fees written off |
| `credit-line-<line>` | asset | a credit line's principal drawn and not repaid |
| `credit-line-wallet-<line>` | liability, owned by the borrower | what the line's draws paid out |

Transfer ids derive from the loan and the step (`<loan>.disburse`, `<repayment>.interest`),
so a retried step finds its transfers instead of booking them twice.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from paygod.credit.errors import CreditCode
from paygod.kernel.errors import Conflict

if TYPE_CHECKING:
    from paygod.credit.loan import Loan
    from paygod.credit.servicing import Allocation


def receivable_id(loan_id: str) -> str:
    return f"credit-loan-{loan_id}"


def fees_id(loan_id: str) -> str:
    return f"credit-loan-fees-{loan_id}"


def wallet_id(loan_id: str) -> str:
    return f"credit-wallet-{loan_id}"


def line_receivable_id(line_id: str) -> str:
    return f"credit-line-{line_id}"


def line_wallet_id(line_id: str) -> str:
    return f"credit-line-wallet-{line_id}"


def fee_income_id(currency: str) -> str:
    return f"credit-fee-income-{currency}"


def interest_income_id(currency: str) -> str:
    return f"credit-interest-income-{currency}"


def losses_id(currency: str) -> str:
    return f"credit-loan-losses-{currency}"


@dataclass(frozen=True, slots=True)
class Leg:
    """One transfer of a booking: `amount` from `debit` to `credit` (zero legs are skipped)."""

    suffix: str
    debit: str
    credit: str
    amount: int
    code: str


def disbursement_legs(loan: Loan) -> list[Leg]:
    financed = loan.principal - loan.origination_fee
    return [
        Leg("disburse", loan.receivable_account, loan.wallet_account, financed, "loan"),
        Leg(
            "origination-fee",
            loan.receivable_account,
            fee_income_id(loan.currency),
            loan.origination_fee,
            "origination_fee",
        ),
    ]


def repayment_legs(loan: Loan, source: str, allocation: Allocation) -> list[Leg]:
    income = interest_income_id(loan.currency)
    return [
        Leg("fees", source, loan.fees_account, allocation.fees, "loan_fee_repayment"),
        Leg("interest", source, income, allocation.interest, "loan_interest"),
        Leg("principal", source, loan.receivable_account, allocation.principal, "loan_principal"),
    ]


def late_fee_legs(before: Loan, after: Loan) -> list[Leg]:
    """One transfer per instalment charged a late fee between `before` and `after`."""
    return [
        Leg(
            str(new.n),
            before.fees_account,
            fee_income_id(before.currency),
            new.late_fee,
            "late_fee",
        )
        for old, new in zip(before.instalments, after.instalments, strict=True)
        if new.late_fee and not old.late_fee
    ]


def write_off_legs(loan: Loan, principal: int, fees: int) -> list[Leg]:
    losses = losses_id(loan.currency)
    return [
        Leg("principal", losses, loan.receivable_account, principal, "loan_write_off"),
        Leg("fees", losses, loan.fees_account, fees, "loan_write_off"),
    ]


def shared_specs(currency: str) -> list[Any]:
    """The tenant's credit accounts every loan in `currency` books against."""
    from paygod.accounting import AccountCode, AccountSpec

    return [
        AccountSpec(
            currency,
            AccountCode.REVENUE,
            fee_income_id(currency),
            metadata={"purpose": "credit fee income"},
        ),
        AccountSpec(
            currency,
            AccountCode.REVENUE,
            interest_income_id(currency),
            metadata={"purpose": "credit interest income"},
        ),
        AccountSpec(
            currency,
            AccountCode.EXPENSE,
            losses_id(currency),
            metadata={"purpose": "credit losses written off"},
        ),
    ]


class LoanBooks:
    """Adapter over `paygod.accounting.AccountingService` (typed loosely: no import cycle)."""

    def __init__(self, accounting: Any) -> None:
        self.accounting = accounting
        # (tenant, currency) whose shared credit accounts this process saw committed: a
        # disbursement then opens only its loan's own accounts (accounts are never deleted).
        self._shared_open: set[tuple[str, str]] = set()

    def open_loan(
        self, tenant_id: str, loan_id: str, currency: str, borrower: str
    ) -> Callable[[Any], list[Any]]:
        """The opening of the loan's accounts (and the tenant's shared credit accounts, until
        they are seen open), checked now: the returned function, run inside the loan's
        ledger transaction (`conn`), gives the drafts."""
        from paygod.accounting import AccountCode, AccountFlags, AccountSpec

        never_negative_asset = AccountFlags(credits_must_not_exceed_debits=True)
        specs = [
            AccountSpec(
                currency,
                AccountCode.ASSET,
                receivable_id(loan_id),
                never_negative_asset,
                {"purpose": "loan principal receivable", "loan_id": loan_id},
            ),
            AccountSpec(
                currency,
                AccountCode.ASSET,
                fees_id(loan_id),
                never_negative_asset,
                {"purpose": "loan fees receivable", "loan_id": loan_id},
            ),
            AccountSpec(
                currency,
                AccountCode.LIABILITY,
                wallet_id(loan_id),
                AccountFlags(debits_must_not_exceed_credits=True),
                {"purpose": "borrower wallet", "loan_id": loan_id},
                owner=borrower,
            ),
        ]
        return self._opening(tenant_id, currency, specs)

    def open_line(
        self, tenant_id: str, line_id: str, currency: str, borrower: str
    ) -> Callable[[Any], list[Any]]:
        """A credit line's accounts (its receivable, the borrower's wallet) and the shared
        ones until seen open; as `open_loan`, the drafts come inside the line's transaction."""
        from paygod.accounting import AccountCode, AccountFlags, AccountSpec

        specs = [
            AccountSpec(
                currency,
                AccountCode.ASSET,
                line_receivable_id(line_id),
                AccountFlags(credits_must_not_exceed_debits=True),
                {"purpose": "credit line principal receivable", "line_id": line_id},
            ),
            AccountSpec(
                currency,
                AccountCode.LIABILITY,
                line_wallet_id(line_id),
                AccountFlags(debits_must_not_exceed_credits=True),
                {"purpose": "borrower wallet", "line_id": line_id},
                owner=borrower,
            ),
        ]
        return self._opening(tenant_id, currency, specs)

    def _opening(
        self, tenant_id: str, currency: str, specs: list[Any]
    ) -> Callable[[Any], list[Any]]:
        """`specs` and the shared accounts until seen open, as drafts made inside the
        caller's transaction (a loan's or a line's)."""
        if not self._shared_opened(tenant_id, currency):
            specs = [*specs, *shared_specs(currency)]
        opening = self.accounting.opening_in(tenant_id, specs)

        def drafts(conn: Any) -> list[Any]:
            return list(opening(conn)[1])

        return drafts

    def _shared_opened(self, tenant_id: str, currency: str) -> bool:
        key = (tenant_id, currency)
        if key not in self._shared_open:
            ids = [spec.id for spec in shared_specs(currency)]
            if not self.accounting.have_accounts(tenant_id, ids):
                return False
            self._shared_open.add(key)
        return True

    def book(
        self,
        conn: Any,
        tenant_id: str,
        prefix: str,
        currency: str,
        legs: list[Leg],
        metadata: dict[str, Any],
    ) -> list[Any]:
        """Post every non-zero leg in this transaction; a refusal raises (nothing commits)."""
        from paygod.accounting import TransferRequest
        from paygod.accounting.service import error_for

        requests = [
            TransferRequest(
                id=f"{prefix}.{leg.suffix}",
                debit_account_id=leg.debit,
                credit_account_id=leg.credit,
                amount=leg.amount,
                ledger=currency,
                code=leg.code,
                metadata=metadata,
            )
            for leg in legs
            if leg.amount > 0
        ]
        if not requests:
            return []
        results, drafts = self.accounting.create_transfers_in(conn, tenant_id, requests)
        for result in results:
            if result.error is not None:
                raise error_for(result.error)
            if not result.created:
                # Another process booked this step first: this attempt records nothing.
                raise Conflict(
                    f"transfer {requests[result.index].id} was already booked",
                    code=CreditCode.ALREADY_BOOKED,
                )
        return list(drafts)
