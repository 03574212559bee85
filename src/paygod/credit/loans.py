"""Loans on the kernel: disbursement, repayments, delinquency and write-off, each a ledger
transaction holding the loan's new state (subject `credit-loan:<id>`), its double-entry
transfers (`books.py`) and its events, committed together or not at all."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import date, datetime
from typing import Any

from paygod.canonical import digest
from paygod.credit import listing, sealing
from paygod.credit import loan as events
from paygod.credit.books import (
    Leg,
    LoanBooks,
    disbursement_legs,
    fee_income_id,
    fees_id,
    interest_income_id,
    late_fee_legs,
    losses_id,
    receivable_id,
    repayment_legs,
    wallet_id,
    write_off_legs,
)
from paygod.credit.errors import CreditCode, LoanDisbursed, in_state
from paygod.credit.loan import Due, Loan, LoanClosed, LoanStatus
from paygod.credit.locks import KeyedLocks
from paygod.credit.model import ApplicationStatus
from paygod.credit.payout import pay_out, payout_request
from paygod.credit.portfolio import portfolio
from paygod.credit.products import CATALOG, Product
from paygod.credit.service import NAMESPACE, CreditService, version_draft
from paygod.credit.servicing import (
    BUCKETS,
    Overpayment,
    allocate,
    bucket_of,
    charge_late_fees,
    days_past_due,
    payoff,
)
from paygod.kernel.clock import Clock, isoformat
from paygod.kernel.errors import Conflict, FieldError, InvalidInput, NotFound, PaygodError
from paygod.kernel.events import EventEnvelope
from paygod.kernel.identifiers import identifier_problem
from paygod.ledger import EntryDraft, LedgerService
from paygod.ledger.model import Entry

KIND = "credit.loan"
MAX_REPAYMENT = 10**15


def subject_of(loan_id: str) -> str:
    return f"credit-loan:{loan_id}"


def _bad(pointer: str, message: str) -> InvalidInput:
    return InvalidInput(message, errors=[FieldError(pointer, message)])


def parse_repayment(body: Mapping[str, Any], currency: str) -> dict[str, Any]:
    for key in body:
        if key not in ("amount", "currency", "from_account"):
            raise _bad(f"/{key}", f"unknown field {key!r}")
    amount = body.get("amount")
    if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
        raise _bad("/amount", "amount must be a positive whole number of minor units")
    if amount > MAX_REPAYMENT:
        raise _bad("/amount", f"amount must be at most {MAX_REPAYMENT}")
    if body.get("currency") != currency:
        raise _bad("/currency", f"currency must be the loan's, {currency}")
    source = body.get("from_account")
    if source is not None and (not isinstance(source, str) or identifier_problem(source)):
        raise _bad("/from_account", "from_account must be an account id")
    return {"amount": amount, "currency": currency, "from_account": source}


class LoanService:
    def __init__(
        self,
        ledger: LedgerService,
        clock: Clock,
        applications: CreditService,
        accounting: Any,
        payments: Any = None,
    ) -> None:
        self.ledger = ledger
        self.clock = clock
        self.applications = applications
        self.books = LoanBooks(accounting)
        self.accounting = accounting
        self.payments = payments
        self._lock = KeyedLocks()

    # -- reads --------------------------------------------------------------------------

    def find(self, loan_id: str, at: datetime | None = None) -> Loan | None:
        latest = self.ledger.latest(subject_of(loan_id), KIND, recorded_at=at)
        return Loan.from_dict(latest.payload["loan"]) if latest is not None else None

    def get(
        self,
        loan_id: str,
        tenant_id: str | None = None,
        owner: str | None = None,
        at: datetime | None = None,
    ) -> Loan:
        found = self.find(loan_id, at)
        if (
            found is None
            or (tenant_id is not None and found.tenant_id != tenant_id)
            or (owner is not None and found.borrower != owner)
        ):
            raise NotFound(f"no loan {loan_id}")
        return found

    def _receipt(self, entry: Entry) -> dict[str, Any]:
        return sealing.receipt(self.ledger, entry)

    def view(self, loan: Loan, at: datetime | None = None) -> dict[str, Any]:
        """The loan with what follows from it on the day of `at` (default now)."""
        on = (at or self.clock.now()).date()
        dpd = days_past_due(loan, on)
        upcoming = next((d for d in loan.instalments if d.due_date >= on and d.unpaid), None)
        return {
            **loan.as_dict(),
            "as_of": on.isoformat(),
            "principal_outstanding": loan.principal_outstanding,
            "fees_outstanding": loan.fees_outstanding,
            "days_past_due": 0 if loan.closed else dpd,
            "delinquency_bucket": "current" if loan.closed else bucket_of(dpd),
            "payoff": 0 if loan.closed else payoff(loan, on),
            "next_due": (
                {**upcoming.as_dict(), "amount_due": upcoming.unpaid + upcoming.fee_unpaid}
                if upcoming and not loan.closed
                else None
            ),
        }

    def history(self, loan_id: str) -> list[dict[str, Any]]:
        return sealing.transitions(self.ledger, subject_of(loan_id), KIND)

    def loan_ids(
        self, tenant_id: str | None, owner: str | None = None, at: datetime | None = None
    ) -> list[str]:
        return listing.LOANS.ids(self.ledger, tenant_id, owner, at)

    def loans(
        self, tenant_id: str | None, owner: str | None = None, at: datetime | None = None
    ) -> list[Loan]:
        found = (self.find(i, at) for i in self.loan_ids(tenant_id, owner, at))
        return [loan for loan in found if loan is not None]

    def portfolio(
        self, tenant_id: str, owner: str | None = None, at: datetime | None = None
    ) -> dict[str, Any]:
        when = at or self.clock.now()
        loans = self.loans(tenant_id, owner, at)
        return {
            "tenant_id": tenant_id,
            "at": isoformat(when),
            **portfolio(((loan, CATALOG[loan.product_id]) for loan in loans), when.date()),
        }

    # -- writes -------------------------------------------------------------------------

    def disburse(
        self,
        loan_id: str,
        *,
        tenant_id: str | None,
        operator: str,
        payout: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Book the accepted contract's loan: receivable, borrower wallet, fee income."""
        application = self.applications.get(loan_id, tenant_id)
        payment_body = self._payout_body(application.application_id, payout, application)
        with self._lock(loan_id):
            existing = self.find(loan_id)
            if existing is not None:
                if payment_body is not None and not (existing.payout or {}).get("payment_id"):
                    # Booked, but its payout never started (a crash, a refused payment):
                    # the same call completes it; the payment's own key keeps it single.
                    loan, sealed = self._pay_out(existing, payment_body, operator)
                    return {**self.view(loan), "ledger": self._receipt(sealed)}
                raise LoanDisbursed(f"loan {loan_id} was already disbursed")
            if application.status is not ApplicationStatus.ACCEPTED:
                raise Conflict(
                    f"application {loan_id} is {application.status.value}; only an accepted "
                    "contract is disbursed",
                    code=in_state("application", application.status),
                )
            if CATALOG[application.product_id].kind != "term_loan":
                raise Conflict(
                    f"application {loan_id} is for a credit line; it is opened, not disbursed",
                    code=CreditCode.NOT_A_TERM_LOAN,
                )
            loan = self._new_loan(application)
            financed = loan.principal - loan.origination_fee
            legs = disbursement_legs(loan)
            event = self._event(
                loan,
                events.LOAN_DISBURSED,
                {
                    "principal": loan.principal,
                    "amount_financed": financed,
                    "origination_fee": loan.origination_fee,
                    "wallet_account": loan.wallet_account,
                    "contract_digest": loan.contract_digest,
                },
            )

            opening = self.books.open_loan(
                loan.tenant_id, loan.loan_id, loan.currency, loan.borrower
            )

            book = listing.LOANS.entry(loan.loan_id, loan.borrower, loan.tenant_id)
            disbursed = self._draft(loan, "disbursed", [event])  # built before the writer

            def work(conn: Any) -> tuple[None, list[Any]]:
                self._still(loan_id, None)
                drafts = opening(conn)
                drafts += self.books.book(
                    conn, loan.tenant_id, loan.loan_id, loan.currency, legs, {"loan_id": loan_id}
                )
                return None, [*drafts, book, disbursed]

            _, entries = self.ledger.transact(work)
            sealed = entries[-1]
            if payment_body is not None:
                loan, sealed = self._pay_out(loan, payment_body, operator)
        return {**self.view(loan), "ledger": self._receipt(sealed)}

    def repay(
        self,
        loan_id: str,
        body: Mapping[str, Any],
        *,
        tenant_id: str | None,
        owner: str | None,
        idempotency_key: str,
    ) -> tuple[dict[str, Any], bool]:
        """Allocate a repayment (fees → interest → principal, the rest early); (result,
        created now?). The same key with the same body replays; with another, 409."""
        with self._lock(loan_id):
            loan = self.get(loan_id, tenant_id, owner)
            fields = parse_repayment(body, loan.currency)
            request_digest = digest(fields)
            repayment_id = str(
                uuid.uuid5(NAMESPACE, f"{loan.tenant_id}\x00{loan_id}\x00{idempotency_key}")
            )
            done = loan.repayment(repayment_id)
            if done is not None:
                if done["request_digest"] != request_digest:
                    raise Conflict("this Idempotency-Key was used with another repayment")
                return self._repayment_result(loan, done), False
            if loan.closed:
                raise LoanClosed(f"loan {loan_id} is {loan.status.value}; nothing was booked")
            source = fields["from_account"] or loan.wallet_account
            own_books = {
                loan.receivable_account,
                loan.fees_account,
                fee_income_id(loan.currency),
                interest_income_id(loan.currency),
                losses_id(loan.currency),
            }
            if source in own_books:
                raise _bad("/from_account", f"{source} is the lender's own loan account")
            if fields["from_account"] is not None:
                try:
                    self.accounting.get_account(loan.tenant_id, source, owner=owner)
                except NotFound:
                    raise _bad("/from_account", f"no account {source} you may pay from") from None
            now = self.clock.now()
            on = now.date()
            assessed, fee_legs, notices = self._assess(loan, on)
            try:
                paid, allocation = allocate(assessed, fields["amount"], on)
            except Overpayment as over:
                raise _bad(
                    "/amount",
                    f"amount {fields['amount']} is more than the payoff today, {over.payoff}; "
                    "nothing was booked",
                ) from None
            record = {
                "repayment_id": repayment_id,
                "idempotency_key": idempotency_key,
                "request_digest": request_digest,
                "amount": fields["amount"],
                "currency": loan.currency,
                "from_account": source,
                "received_at": isoformat(now),
                "allocation": allocation.as_dict(),
            }
            at = isoformat(now)
            changes: dict[str, Any] = {
                "repayments": (*paid.repayments, record),
                "bucket": bucket_of(days_past_due(paid, on)),
            }
            if paid.principal_outstanding == 0:
                updated = paid.move_to(LoanStatus.REPAID, at, **changes)
            else:
                updated = paid.changed(at, **changes)
            legs = repayment_legs(loan, source, allocation)
            received = self._event(
                updated,
                events.REPAYMENT_RECEIVED,
                {
                    "repayment_id": repayment_id,
                    "amount": fields["amount"],
                    "allocation": allocation.as_dict(),
                    "principal_outstanding": updated.principal_outstanding,
                },
            )
            entry = self._record(
                updated,
                "repaid" if updated.status is LoanStatus.REPAID else "repayment",
                [*notices, received],
                lambda conn: [
                    *self._book(conn, updated, f"{loan_id}.late-fees", fee_legs),
                    *self._book(conn, updated, repayment_id, legs),
                ],
            )
        return self._repayment_result(updated, record, entry), True

    def assess(self, loan_id: str, *, tenant_id: str | None) -> dict[str, Any]:
        """Late fees due, the delinquency bucket and default, recorded when they change."""
        with self._lock(loan_id):
            loan = self.get(loan_id, tenant_id)
            if loan.closed:
                return {**self.view(loan), "recorded": False}
            at = self.clock.now()
            updated, fee_legs, notices = self._assess(loan, at.date())
            if updated == loan:
                return {**self.view(loan), "recorded": False}
            updated = updated.changed(isoformat(at))
            entry = self._record(
                updated,
                "assessed",
                notices,
                lambda conn: self._book(conn, updated, f"{loan_id}.late-fees", fee_legs),
            )
        return {**self.view(updated), "recorded": True, "ledger": self._receipt(entry)}

    def assess_all(self) -> list[str]:
        """Every open loan of every tenant assessed (the periodic housekeeping task)."""
        changed = []
        for loan_id in self.loan_ids(None):
            try:
                if self.assess(loan_id, tenant_id=None)["recorded"]:
                    changed.append(loan_id)
            except PaygodError:
                continue  # one loan's refusal must not stop the sweep; it is retried next time
        return changed

    def write_off(
        self, loan_id: str, *, tenant_id: str | None, by: str, reason: str
    ) -> dict[str, Any]:
        """A loan 90+ days past due leaves the books: principal and fees to losses."""
        with self._lock(loan_id):
            loan = self.get(loan_id, tenant_id)
            if loan.closed:
                raise LoanClosed(f"loan {loan_id} is {loan.status.value}; nothing was booked")
            now = self.clock.now()
            assessed, fee_legs, notices = self._assess(loan, now.date())
            if assessed.status is not LoanStatus.DEFAULTED:
                dpd = days_past_due(assessed, now.date())
                raise Conflict(
                    f"loan {loan_id} is {dpd} days past due; only a loan over 90 days past "
                    "due is written off; nothing was booked",
                    code=CreditCode.LOAN_NOT_DEFAULTED,
                )
            principal, fees = assessed.principal_outstanding, assessed.fees_outstanding
            at = isoformat(now)
            updated = assessed.move_to(
                LoanStatus.WRITTEN_OFF, at, written_off=assessed.written_off + principal
            )
            legs = write_off_legs(loan, principal, fees)
            written = self._event(
                updated,
                events.LOAN_WRITTEN_OFF,
                {"principal": principal, "fees": fees, "by": by, "reason": reason},
            )
            entry = self._record(
                updated,
                "written_off",
                [*notices, written],
                lambda conn: [
                    *self._book(conn, updated, f"{loan_id}.late-fees", fee_legs),
                    *self._book(conn, updated, f"{loan_id}.write-off", legs),
                ],
            )
        return {
            **self.view(updated),
            "write_off": {"principal": principal, "fees": fees, "by": by, "reason": reason},
            "ledger": self._receipt(entry),
        }

    # -- steps --------------------------------------------------------------------------

    def _assess(self, loan: Loan, on: date) -> tuple[Loan, list[Leg], list[EventEnvelope]]:
        """Late fees charged, bucket and default updated; the fee legs and events."""
        product = CATALOG[loan.product_id]
        charged, _ = charge_late_fees(loan, on, product.late_fee, product.late_fee_grace_days)
        legs = late_fee_legs(loan, charged)
        dpd = days_past_due(charged, on)
        bucket = bucket_of(dpd)
        notices: list[EventEnvelope] = []
        if bucket != charged.bucket:
            charged = replace(charged, bucket=bucket)
            if BUCKETS.index(bucket) > BUCKETS.index(loan.bucket):
                notices.append(
                    self._event(
                        charged,
                        events.LOAN_DELINQUENT,
                        {
                            "days_past_due": dpd,
                            "bucket": bucket,
                            "late_fees": sum(leg.amount for leg in legs),
                        },
                    )
                )
        if bucket == "90+" and charged.status is LoanStatus.ACTIVE:
            # ACTIVE → DEFAULTED is in the loan's table; the caller's write bumps the version.
            charged = replace(charged, status=LoanStatus.DEFAULTED)
        return charged, legs, notices

    def _still(self, loan_id: str, version: int | None) -> None:
        """Inside the write transaction, where every ledger writer (of this process and of
        any other on the same store) waits its turn: the loan is still the version this step
        was computed from, else 409 and nothing is recorded. The per-loan lock keeps this
        process's steps apart; this keeps another process's from being overwritten."""
        latest = self.ledger.latest(subject_of(loan_id), KIND)
        # The version alone, not the whole loan (its instalments parsed), in the writer.
        current = None if latest is None else latest.payload["loan"]["version"]
        if current is None and version is None:
            return
        if current is not None and version is None:
            raise LoanDisbursed(f"loan {loan_id} was already disbursed")
        if current is None or current != version:
            raise Conflict(
                f"loan {loan_id} changed while this step was prepared; nothing was recorded, "
                "try again",
                code=CreditCode.LOAN_CHANGED,
            )

    def _book(self, conn: Any, loan: Loan, prefix: str, legs: list[Leg]) -> list[Any]:
        return self.books.book(
            conn, loan.tenant_id, prefix, loan.currency, legs, {"loan_id": loan.loan_id}
        )

    def _record(
        self,
        loan: Loan,
        transition: str,
        notices: list[EventEnvelope],
        booking: Callable[[Any], list[Any]],
    ) -> Entry:
        draft = self._draft(loan, transition, notices)  # built before the writer

        def work(conn: Any) -> tuple[None, list[Any]]:
            self._still(loan.loan_id, loan.version - 1)
            return None, [*booking(conn), draft]

        _, entries = self.ledger.transact(work)
        return entries[-1]

    def _repayment_result(
        self, loan: Loan, record: Mapping[str, Any], entry: Entry | None = None
    ) -> dict[str, Any]:
        result = {
            "repayment": {k: v for k, v in record.items() if k != "request_digest"},
            "loan": self.view(loan),
        }
        if entry is None:
            entry = next(
                (
                    e
                    for e in self.ledger.history(subject_of(loan.loan_id))
                    if e.kind == KIND
                    and any(
                        r["repayment_id"] == record["repayment_id"]
                        for r in e.payload["loan"]["repayments"][-1:]
                    )
                ),
                None,
            )
        if entry is not None:
            result["ledger"] = self._receipt(entry)
        return result

    def _new_loan(self, application: Any) -> Loan:
        offer = application.offer or {}
        product: Product = CATALOG[application.product_id]
        now = isoformat(self.clock.now())
        loan_id = application.application_id
        return Loan(
            loan_id=loan_id,
            tenant_id=application.tenant_id,
            borrower=application.applicant,
            applicant_ref=application.applicant_ref,
            product_id=product.product_id,
            grade=str(offer["grade"]),
            currency=application.currency,
            principal=application.amount,
            origination_fee=int(offer["disclosure"]["prepaid_finance_charge"]),
            annual_rate=str(offer["annual_rate"]),
            frequency=product.frequency.value,
            day_count=product.day_count.value,
            rounding="half-even",
            start=date.fromisoformat(str(offer["start"])),
            status=LoanStatus.ACTIVE,
            disbursed_at=now,
            updated_at=now,
            wallet_account=wallet_id(loan_id),
            receivable_account=receivable_id(loan_id),
            fees_account=fees_id(loan_id),
            contract_digest=str((application.contract or {})["document_digest"]),
            instalments=tuple(
                Due(
                    int(row["n"]),
                    date.fromisoformat(str(row["due_date"])),
                    int(row["interest"]),
                    int(row["principal"]),
                )
                for row in offer["schedule"]["rows"]
            ),
        )

    def _payout_body(
        self, loan_id: str, payout: Mapping[str, Any] | None, application: Any
    ) -> dict[str, Any] | None:
        if payout is None:
            return None
        if self.payments is None:
            raise _bad("/payout", "this kernel has no payments rail router")
        return payout_request(self.payments, loan_id, payout, application)

    def _pay_out(self, loan: Loan, body: dict[str, Any], operator: str) -> tuple[Loan, Entry]:
        """The payment (or why none was made) is sealed on the loan."""
        updated = loan.changed(
            isoformat(self.clock.now()), payout=pay_out(self.payments, loan, body, operator)
        )
        return updated, self._record(updated, "payout", [], lambda conn: [])

    # -- recording ----------------------------------------------------------------------

    def _draft(self, loan: Loan, transition: str, events_: list[EventEnvelope]) -> EntryDraft:
        return version_draft(
            KIND,
            subject_of(loan.loan_id),
            loan.tenant_id,
            {"transition": transition, "loan": loan.as_dict()},
            events_,
        )

    def _event(self, loan: Loan, event_type: str, extra: Mapping[str, Any]) -> EventEnvelope:
        return sealing.aggregate_event(
            self.clock,
            event_type,
            aggregate_type="credit_loan",
            id_key="loan_id",
            aggregate_id=loan.loan_id,
            tenant_id=loan.tenant_id,
            status=loan.status.value,
            borrower=loan.borrower,
            extra=extra,
        )
