"""Revolving credit lines on the kernel: opening, draws, repayments and closing, each a
ledger transaction holding the line's new state (subject `credit-line:<id>`), its
double-entry transfers (`books.py`) and its events, committed together or not at all.
The arithmetic (interest, limits, allocation) is `line.py`'s."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from paygod.canonical import digest
from paygod.credit import line as events
from paygod.credit import listing, sealing
from paygod.credit.books import (
    Leg,
    LoanBooks,
    interest_income_id,
    line_receivable_id,
    line_wallet_id,
)
from paygod.credit.errors import CreditCode, in_state
from paygod.credit.line import BackdatedMove, CreditLine, LineStatus
from paygod.credit.loan import REPAYMENT_RECEIVED
from paygod.credit.locks import KeyedLocks
from paygod.credit.model import ApplicationStatus
from paygod.credit.products import CATALOG
from paygod.credit.service import NAMESPACE, CreditService, version_draft
from paygod.kernel.clock import Clock, isoformat
from paygod.kernel.errors import Conflict, FieldError, InvalidInput, NotFound
from paygod.kernel.events import EventEnvelope
from paygod.kernel.identifiers import identifier_problem
from paygod.ledger import EntryDraft, LedgerService
from paygod.ledger.model import Entry

KIND = "credit.line"
MAX_AMOUNT = 10**15


def subject_of(line_id: str) -> str:
    return f"credit-line:{line_id}"


def _bad(pointer: str, message: str) -> InvalidInput:
    return InvalidInput(message, errors=[FieldError(pointer, message)])


def parse_move(
    body: Mapping[str, Any], currency: str, *, from_account: bool = False
) -> dict[str, Any]:
    """A draw's or a repayment's body: `amount` (minor units) and the line's `currency`; a
    repayment may name `from_account` (an account of the borrower's; the wallet else)."""
    allowed = ("amount", "currency", "from_account") if from_account else ("amount", "currency")
    for key in body:
        if key not in allowed:
            raise _bad(f"/{key}", f"unknown field {key!r}")
    amount = body.get("amount")
    if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
        raise _bad("/amount", "amount must be a positive whole number of minor units")
    if amount > MAX_AMOUNT:
        raise _bad("/amount", f"amount must be at most {MAX_AMOUNT}")
    if body.get("currency") != currency:
        raise _bad("/currency", f"currency must be the line's, {currency}")
    fields: dict[str, Any] = {"amount": amount, "currency": currency}
    if from_account:
        source = body.get("from_account")
        if source is not None and (not isinstance(source, str) or identifier_problem(source)):
            raise _bad("/from_account", "from_account must be an account id")
        fields["from_account"] = source
    return fields


class LineService:
    def __init__(
        self, ledger: LedgerService, clock: Clock, applications: CreditService, accounting: Any
    ) -> None:
        self.ledger = ledger
        self.clock = clock
        self.applications = applications
        self.books = LoanBooks(accounting)
        self.accounting = accounting
        self._lock = KeyedLocks()

    # -- reads --------------------------------------------------------------------------

    def find(self, line_id: str, at: datetime | None = None) -> CreditLine | None:
        latest = self.ledger.latest(subject_of(line_id), KIND, recorded_at=at)
        return CreditLine.from_dict(latest.payload["line"]) if latest is not None else None

    def get(
        self,
        line_id: str,
        tenant_id: str | None = None,
        owner: str | None = None,
        at: datetime | None = None,
    ) -> CreditLine:
        found = self.find(line_id, at)
        if (
            found is None
            or (tenant_id is not None and found.tenant_id != tenant_id)
            or (owner is not None and found.borrower != owner)
        ):
            raise NotFound(f"no credit line {line_id}")
        return found

    def view(self, line: CreditLine, at: datetime | None = None) -> dict[str, Any]:
        """The line with its interest, available credit and minimum payment on `at`'s day."""
        return line.view((at or self.clock.now()).date())

    def history(self, line_id: str) -> list[dict[str, Any]]:
        return sealing.transitions(self.ledger, subject_of(line_id), KIND)

    def lines(
        self, tenant_id: str | None, owner: str | None = None, at: datetime | None = None
    ) -> list[CreditLine]:
        ids = listing.LINES.ids(self.ledger, tenant_id, owner, at)
        found = (self.find(i, at) for i in ids)
        return [line for line in found if line is not None]

    def _receipt(self, entry: Entry) -> dict[str, Any]:
        return sealing.receipt(self.ledger, entry)

    # -- writes -------------------------------------------------------------------------

    def open(self, line_id: str, *, tenant_id: str | None) -> dict[str, Any]:
        """Open the accepted contract's line: its accounts, its entry in the book."""
        application = self.applications.get(line_id, tenant_id)
        with self._lock(line_id):
            if self.find(line_id) is not None:
                raise Conflict(
                    f"credit line {line_id} is already open", code=CreditCode.ALREADY_BOOKED
                )
            if application.status is not ApplicationStatus.ACCEPTED:
                raise Conflict(
                    f"application {line_id} is {application.status.value}; only an accepted "
                    "contract opens a line",
                    code=in_state("application", application.status),
                )
            if CATALOG[application.product_id].kind != "credit_line":
                raise Conflict(
                    f"application {line_id} is for a term loan; it is disbursed, not opened",
                    code=CreditCode.NOT_A_CREDIT_LINE,
                )
            offer = application.offer or {}
            now = self.clock.now()
            line = CreditLine(
                line_id=line_id,
                tenant_id=application.tenant_id,
                borrower=application.applicant,
                applicant_ref=application.applicant_ref,
                product_id=application.product_id,
                grade=str(offer["grade"]),
                currency=application.currency,
                credit_limit=int(offer["credit_limit"]),
                annual_rate=str(offer["annual_rate"]),
                status=LineStatus.OPEN,
                opened_at=isoformat(now),
                updated_at=isoformat(now),
                accrual_from=now.date(),
                wallet_account=line_wallet_id(line_id),
                receivable_account=line_receivable_id(line_id),
                contract_digest=str((application.contract or {})["document_digest"]),
            )
            event = self._event(
                line,
                events.CREDIT_LINE_OPENED,
                {
                    "credit_limit": line.credit_limit,
                    "annual_rate": line.annual_rate,
                    "wallet_account": line.wallet_account,
                    "contract_digest": line.contract_digest,
                },
            )
            opening = self.books.open_line(line.tenant_id, line_id, line.currency, line.borrower)
            book = listing.LINES.entry(line_id, line.borrower, line.tenant_id)
            opened = self._draft(line, "opened", [event])

            def work(conn: Any) -> tuple[None, list[Any]]:
                self._still(line_id, None)
                return None, [*opening(conn), book, opened]

            _, entries = self.ledger.transact(work)
        return {**self.view(line), "ledger": self._receipt(entries[-1])}

    def draw(
        self,
        line_id: str,
        body: Mapping[str, Any],
        *,
        tenant_id: str | None,
        owner: str | None,
        idempotency_key: str,
    ) -> tuple[dict[str, Any], bool]:
        """Move `amount` to the borrower's wallet within the available credit; (result,
        created now?). The same key with the same body replays; with another, 409."""
        with self._lock(line_id):
            line = self.get(line_id, tenant_id, owner)
            fields = parse_move(body, line.currency)
            move_id, replay = self._replay(line, "draw", fields, idempotency_key)
            if replay is not None:
                return replay, False
            now = self.clock.now()
            record = self._record_of(move_id, idempotency_key, fields, now)
            updated = self._moved(
                lambda: line.draw(fields["amount"], now.date(), isoformat(now), record)
            )
            legs = [
                Leg(
                    "draw",
                    line.receivable_account,
                    line.wallet_account,
                    fields["amount"],
                    "credit_draw",
                )
            ]
            drawn = self._event(
                updated,
                events.CREDIT_DRAWN,
                {
                    "move_id": move_id,
                    "amount": fields["amount"],
                    "principal_balance": updated.principal_balance,
                    "available_credit": updated.available_credit,
                },
            )
            entry = self._write(updated, "draw", [drawn], move_id, legs)
        return self._move_result(updated, updated.history[-1], entry), True

    def repay(
        self,
        line_id: str,
        body: Mapping[str, Any],
        *,
        tenant_id: str | None,
        owner: str | None,
        idempotency_key: str,
    ) -> tuple[dict[str, Any], bool]:
        """Pay the interest accrued to now, then principal; more than is owed is refused."""
        with self._lock(line_id):
            line = self.get(line_id, tenant_id, owner)
            fields = parse_move(body, line.currency, from_account=True)
            move_id, replay = self._replay(line, "repayment", fields, idempotency_key)
            if replay is not None:
                return replay, False
            source = fields["from_account"] or line.wallet_account
            if source in {line.receivable_account, interest_income_id(line.currency)}:
                raise _bad("/from_account", f"{source} is the lender's own line account")
            if fields["from_account"] is not None:
                try:
                    self.accounting.get_account(line.tenant_id, source, owner=owner)
                except NotFound:
                    raise _bad("/from_account", f"no account {source} you may pay from") from None
            now = self.clock.now()
            record = {
                **self._record_of(move_id, idempotency_key, fields, now),
                "from_account": source,
            }
            updated, interest, principal = self._moved(
                lambda: line.repay(fields["amount"], now.date(), isoformat(now), record)
            )
            income = interest_income_id(line.currency)
            legs = [
                Leg("interest", source, income, interest, "credit_line_interest"),
                Leg(
                    "principal", source, line.receivable_account, principal, "credit_line_principal"
                ),
            ]
            received = self._event(
                updated,
                REPAYMENT_RECEIVED,
                {
                    "move_id": move_id,
                    "amount": fields["amount"],
                    "interest": interest,
                    "principal": principal,
                    "principal_balance": updated.principal_balance,
                },
            )
            entry = self._write(updated, "repayment", [received], move_id, legs)
        return self._move_result(updated, updated.history[-1], entry), True

    def close(self, line_id: str, *, tenant_id: str | None, owner: str | None) -> dict[str, Any]:
        """Close a line that owes nothing (no principal, no interest); 409 otherwise."""
        with self._lock(line_id):
            line = self.get(line_id, tenant_id, owner)
            now = self.clock.now()
            updated = self._moved(lambda: line.close(now.date(), isoformat(now)))
            closed = self._event(updated, events.CREDIT_LINE_CLOSED, {})
            entry = self._write(updated, "closed", [closed], f"{line_id}.close", [])
        return {**self.view(updated), "ledger": self._receipt(entry)}

    # -- steps --------------------------------------------------------------------------

    def _replay(
        self, line: CreditLine, kind: str, fields: Mapping[str, Any], key: str
    ) -> tuple[str, dict[str, Any] | None]:
        move_id = str(
            uuid.uuid5(NAMESPACE, f"{line.tenant_id}\x00{line.line_id}\x00{kind}\x00{key}")
        )
        done = line.move(move_id)
        if done is None:
            return move_id, None
        if done["request_digest"] != digest(dict(fields)):
            raise Conflict(f"this Idempotency-Key was used with another {kind}")
        return move_id, self._move_result(line, done)

    @staticmethod
    def _record_of(
        move_id: str, key: str, fields: Mapping[str, Any], now: datetime
    ) -> dict[str, Any]:
        return {
            "move_id": move_id,
            "idempotency_key": key,
            "request_digest": digest(dict(fields)),
            "currency": fields["currency"],
            "at": isoformat(now),
        }

    @staticmethod
    def _moved(step: Callable[[], Any]) -> Any:
        try:
            return step()
        except BackdatedMove as err:
            # The clock stepped back behind the line's last change: refuse, record nothing.
            raise Conflict(str(err), code=CreditCode.CREDIT_LINE_CHANGED) from None

    def _still(self, line_id: str, version: int | None) -> None:
        """Inside the write transaction: the line is still the version this step was
        computed from (another process did not move it first), else 409, nothing recorded."""
        latest = self.ledger.latest(subject_of(line_id), KIND)
        current = None if latest is None else latest.payload["line"]["version"]
        if current != version:
            raise Conflict(
                f"credit line {line_id} changed while this step was prepared; nothing was "
                "recorded, try again",
                code=CreditCode.CREDIT_LINE_CHANGED,
            )

    def _write(
        self,
        line: CreditLine,
        transition: str,
        notices: list[EventEnvelope],
        prefix: str,
        legs: list[Leg],
    ) -> Entry:
        draft = self._draft(line, transition, notices)

        def work(conn: Any) -> tuple[None, list[Any]]:
            self._still(line.line_id, line.version - 1)
            booked = self.books.book(
                conn, line.tenant_id, prefix, line.currency, legs, {"line_id": line.line_id}
            )
            return None, [*booked, draft]

        _, entries = self.ledger.transact(work)
        return entries[-1]

    def _move_result(
        self, line: CreditLine, record: Mapping[str, Any], entry: Entry | None = None
    ) -> dict[str, Any]:
        result: dict[str, Any] = {
            "move": {k: v for k, v in record.items() if k != "request_digest"},
            "line": self.view(line),
        }
        if entry is None:
            entry = next(
                (
                    e
                    for e in self.ledger.history(subject_of(line.line_id))
                    if e.kind == KIND
                    and any(
                        m.get("move_id") == record["move_id"]
                        for m in e.payload["line"]["history"][-1:]
                    )
                ),
                None,
            )
        if entry is not None:
            result["ledger"] = self._receipt(entry)
        return result

    # -- recording ----------------------------------------------------------------------

    def _draft(self, line: CreditLine, transition: str, events_: list[EventEnvelope]) -> EntryDraft:
        return version_draft(
            KIND,
            subject_of(line.line_id),
            line.tenant_id,
            {"transition": transition, "line": line.as_dict()},
            events_,
        )

    def _event(self, line: CreditLine, event_type: str, extra: Mapping[str, Any]) -> EventEnvelope:
        return sealing.aggregate_event(
            self.clock,
            event_type,
            aggregate_type="credit_line",
            id_key="line_id",
            aggregate_id=line.line_id,
            tenant_id=line.tenant_id,
            status=line.status.value,
            borrower=line.borrower,
            extra=extra,
        )
