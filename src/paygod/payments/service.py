"""The payment lifecycle: requested → decided(allow|deny|review) → held → dispatched →
settled | failed | reversed. Every transition is a ledger entry whose payload is the
payment's new state, so the ledger is the payment store and its history the audit trail.

Only an allowed, sealed decision moves money: the `held` entry carries the
`payment.dispatch` event into the outbox, and the executor's handler (`dispatch`) is the
only code that calls a rail. Before each rail call a `dispatching` entry records the
intent; after a crash the handler asks that rail (`lookup`) before it sends again, which
is what keeps a payment from going out twice.
"""

from __future__ import annotations

import hashlib
import re
import threading
import time
import uuid
import weakref
from collections.abc import Callable, Mapping
from dataclasses import replace
from functools import partial
from typing import Any

import orjson

from paygod.canonical import CanonicalizationError, digest, unsafe_numbers
from paygod.executor.breaker import BreakerBoard
from paygod.executor.model import OutboxMessage
from paygod.executor.worker import PermanentFailure, RetryLater, Worker
from paygod.kernel import observations, tracing
from paygod.kernel.clock import Clock, isoformat
from paygod.kernel.credentials import credential_problems
from paygod.kernel.errors import (
    Conflict,
    FieldError,
    InvalidInput,
    NotFound,
    PaygodError,
    SamePrincipal,
    Unauthorized,
)
from paygod.kernel.events import EventEnvelope
from paygod.kernel.idempotency import require_same_request
from paygod.kernel.identifiers import identifier_problem, invisible_character
from paygod.kernel.logging import get_logger
from paygod.kernel.record_ids import new_id
from paygod.kernel.written import written_problems
from paygod.ledger import EntryDraft
from paygod.ledger.steps import Offload, Steps, run_async, run_blocking
from paygod.payments.errors import NotDispatched, NotInReview, PaymentCode, webhook_code
from paygod.payments.model import (
    TERMINAL,
    Payment,
    PaymentDecision,
    PaymentInstruction,
    PaymentRequest,
    PaymentStatus,
    RailReceipt,
    RailRefused,
    RailUnavailable,
    SettlementNotice,
)
from paygod.payments.ports import (
    Holds,
    PayeeVault,
    PaymentDecider,
    PaymentIndex,
    RailConnector,
    SecondPerson,
)
from paygod.payments.rail_ranking import Quote, RailRouter, require_selection, validate_preference
from paygod.payments.signing import (
    ReplayGuard,
    SeenSignatures,
    WebhookRefusals,
    WebhookRejected,
    verify,
)
from paygod.payments.stores.index import MemoryPaymentIndex, PaymentQuery

DISPATCH_EVENT = "payment.dispatch"
PAYMENT_NAMESPACE = uuid.UUID("5b0f5f3e-4f57-4c61-9b1a-7061796d656e")
MAX_AMOUNT = 10**15
CURRENCY = re.compile(r"^[A-Z]{3}$")
log = get_logger("paygod.payments")
# One transition to record: the new state, its name, its evidence, the events it emits.
Step = tuple[Payment, str, dict[str, Any], list[EventEnvelope]]
# Runs inside a ledger transaction (conn): (steps to record, drafts recorded before them).
Plan = Callable[[Any], tuple[list[Step], list[Any]]]


def subject_of(payment_id: str) -> str:
    return f"payment:{payment_id}"


def payment_id_for(tenant_id: str, idempotency_key: str) -> str:
    """The same key in the same tenant always names the same payment."""
    return str(uuid.uuid5(PAYMENT_NAMESPACE, f"{tenant_id}\x00{idempotency_key}"))


def parse_request(body: Mapping[str, Any], router: RailRouter) -> PaymentRequest:
    """Validate a payment intent; every problem is reported with its JSON pointer."""
    errors: list[FieldError] = []
    allowed = {
        "payer_account",
        "payee",
        "amount",
        "currency",
        "purpose",
        "rail_preference",
        "metadata",
    }
    errors.extend(FieldError(f"/{k}", "unknown field") for k in body if k not in allowed)
    payer = body.get("payer_account")
    if not isinstance(payer, str) or not payer.strip():
        errors.append(FieldError("/payer_account", "must be a non-empty account id"))
    elif problem := identifier_problem(payer):
        # An account id, held to the accounts' own rule: it is also the payment decision's
        # subject (`account:<id>`), so a U+202E or a newline here would reach the ledger.
        errors.append(FieldError("/payer_account", f"account id {problem}"))
    payee = body.get("payee")
    if not isinstance(payee, dict) or not payee:
        errors.append(FieldError("/payee", "must be a non-empty object"))
    else:
        errors.extend(
            FieldError(f"/payee/{k}", "must be a string")
            for k, v in payee.items()
            if not isinstance(v, str)
        )
    amount = body.get("amount")
    if isinstance(amount, bool) or not isinstance(amount, int):
        errors.append(FieldError("/amount", "must be an integer in minor units"))
    elif not 0 < amount <= MAX_AMOUNT:
        errors.append(FieldError("/amount", f"must be between 1 and {MAX_AMOUNT}"))
    currency = body.get("currency")
    if not isinstance(currency, str) or not CURRENCY.match(currency):
        errors.append(FieldError("/currency", "must be an ISO 4217 code like USD"))
    purpose = body.get("purpose")
    if not isinstance(purpose, str) or not purpose.strip() or len(purpose) > 140:
        errors.append(FieldError("/purpose", "must be 1 to 140 characters"))
    elif problem := invisible_character(purpose):
        # The purpose is sealed into the decision's input and the payment's ledger
        # entries and printed in audit output and rail instructions (remittance text):
        # a U+202E, a zero-width space or a newline there makes it read as another.
        errors.append(FieldError("/purpose", problem))
    metadata = body.get("metadata", {})
    if metadata is None:
        metadata = {}
    if not isinstance(metadata, dict):
        errors.append(FieldError("/metadata", "must be an object"))
    preference = body.get("rail_preference")
    if preference is not None and not isinstance(preference, str):
        errors.append(FieldError("/rail_preference", "must be a string"))
        preference = None
    try:
        preference = validate_preference(preference, router.catalog)
    except InvalidInput as exc:
        errors.extend(exc.errors)
    # Every field but the payee (vaulted, sealed as its digest) is sealed as given.
    reported = {error.pointer for error in errors}
    errors.extend(
        error
        for error in written_problems(body, vaulted=("/payee",))
        if error.pointer not in reported
    )
    if errors:
        raise InvalidInput("invalid payment request; nothing was recorded", errors=errors)
    return PaymentRequest(
        payer_account=str(payer),
        payee=dict(payee or {}),
        amount=int(amount or 0),
        currency=str(currency),
        purpose=str(purpose),
        rail_preference=str(preference),
        metadata=dict(metadata),
    )


def _not_the_requester(maker: str, checker: str) -> None:
    if checker == maker:
        raise SamePrincipal(
            "maker-checker: the requester cannot approve or reject their own payment"
        )


class PaymentService:
    def __init__(
        self,
        ledger: Any,
        clock: Clock,
        router: RailRouter,
        connectors: Mapping[str, RailConnector],
        decider: PaymentDecider,
        holds: Holds,
        payees: PayeeVault,
        *,
        breakers: BreakerBoard | None = None,
        webhook_secret: bytes | None = None,
        webhook_tolerance: int = 300,
        replay_guard: SeenSignatures | None = None,
        second_person: SecondPerson | None = None,
        index: PaymentIndex | None = None,
    ) -> None:
        self.ledger = ledger
        self.clock = clock
        self.router = router
        self.connectors = dict(connectors)
        self.decider = decider
        self.holds = holds
        self.payees = payees
        self.breakers = breakers or router.breakers or BreakerBoard(clock)
        self.webhook_secret = webhook_secret
        self.webhook_tolerance = webhook_tolerance
        self.replay_guard: SeenSignatures = replay_guard or ReplayGuard()
        self.refusals = WebhookRefusals()
        # Who counts as the second person (identity: a human the maker did not create);
        # without identity, only "not the requester".
        self.second_person: SecondPerson = second_person or _not_the_requester
        self.index: PaymentIndex = index or MemoryPaymentIndex()
        self._locks: weakref.WeakValueDictionary[str, PaymentLock] = weakref.WeakValueDictionary()
        self._locks_guard = threading.Lock()
        self.on_queued: Callable[[], None] | None = None  # wakes an in-process worker

    # -- wiring -------------------------------------------------------------------

    def register(self, worker: Worker) -> None:
        async def dispatch_on_loop(message: OutboxMessage) -> None:
            steps = self.dispatch_steps(message.aggregate_id, wait=False)
            await run_async(self.ledger, steps)

        worker.register(
            DISPATCH_EVENT,
            lambda message: self.dispatch(message.aggregate_id),
            on_loop=dispatch_on_loop,
        )
        self.on_queued = worker.wake
        for connector in self.connectors.values():
            listen = getattr(connector, "on_settlement", None)
            if callable(listen):
                listen(self.settle)

    def _lock(self, payment_id: str) -> PaymentLock:
        """This payment's own lock (alive while anyone holds it): a lock shared by several
        payments would make an event-loop dispatch, which never waits, give up for nothing."""
        with self._locks_guard:
            lock = self._locks.get(payment_id)
            if lock is None:
                lock = self._locks[payment_id] = PaymentLock()
            return lock

    # -- reads ----------------------------------------------------------------------

    def search(self, query: PaymentQuery) -> list[Payment]:
        """Payments by newest state (the index mirrors the ledger, same transaction)."""
        return self.index.search(query)

    def counts(self, tenant_id: str | None) -> dict[str, int]:
        return self.index.counts(tenant_id)

    def find(self, payment_id: str) -> Payment | None:
        entries = self.ledger.history(subject_of(payment_id))
        for entry in reversed(entries):
            if entry.kind == "payment":
                return Payment.from_dict(entry.payload["payment"])
        return None

    def get(self, payment_id: str, tenant_id: str | None = None) -> Payment:
        payment = self.find(payment_id)
        if payment is None or (tenant_id is not None and payment.tenant_id != tenant_id):
            raise NotFound(f"no payment {payment_id}")
        return payment

    def history(self, payment_id: str) -> list[dict[str, Any]]:
        return [
            {
                "seq": e.seq,
                "transition": e.payload.get("transition"),
                "status": e.payload["payment"]["status"],
                "recorded_at": isoformat(e.recorded_at),
                "evidence": e.payload.get("evidence", {}),
            }
            for e in self.ledger.history(subject_of(payment_id))
            if e.kind == "payment"
        ]

    def quote(
        self,
        *,
        amount: int,
        currency: str,
        preference: str | None = None,
        payee: Mapping[str, Any] | None = None,
    ) -> Quote:
        return self.router.quote(
            amount=amount,
            currency=currency,
            now=self.clock.now(),
            preference=preference,
            payee=payee,
        )

    # -- intents --------------------------------------------------------------------

    def validate(self, body: Mapping[str, Any]) -> tuple[PaymentRequest, str]:
        """The request checked field by field (InvalidInput with pointers), and its
        idempotency fingerprint; nothing is read or recorded."""
        request = parse_request(body, self.router)
        return request, _request_digest(request.as_dict())

    def create(self, body: Mapping[str, Any], **options: Any) -> tuple[Payment, bool]:
        """`create_steps` run to the end from this thread."""
        return run_blocking(self.ledger, self.create_steps(body, **options))

    def create_steps(
        self,
        body: Mapping[str, Any],
        *,
        tenant_id: str,
        requested_by: str,
        idempotency_key: str | None = None,
        owner: str | None = None,
    ) -> Steps[tuple[Payment, bool]]:
        """Validate, decide (sealed), hold and queue. Returns (payment, created now?).

        Two ledger transactions: the sealed decision, then the payment's requested and
        decided states with its hold (and the accounting entries of the hold) and the
        payee row, which is the payment's claim on its id: of two requests creating the
        same payment at once, in this process or another, the second finds the claim
        taken and answers with the payment the first recorded. No lock is held across the
        steps, so they can run on an event loop (ledger/steps.py).

        `owner` (scope `own`): another principal's payment under the same key is neither
        returned nor named."""
        request, request_digest = self.validate(body)
        key = idempotency_key or new_id()
        payment_id = payment_id_for(tenant_id, key)
        existing = self.find(payment_id)
        if existing is not None:
            return self._replayed(existing, request_digest, owner), False
        # A payment no rail can carry is refused before anything is recorded.
        selected = require_selection(
            self.quote(
                amount=request.amount,
                currency=request.currency,
                preference=request.rail_preference,
                payee=request.payee,
            )
        )
        decision = yield from self.decider.decide_steps(
            tenant_id=tenant_id,
            payment_id=payment_id,
            request=request,
            requested_by=requested_by,
            idempotency_key=key,
            rail=selected.rail,
        )
        requested = self._requested(
            request, request_digest, payment_id, tenant_id, requested_by, idempotency_key
        )
        # Stamped now, not when the ledger's writer gets to the plan.
        decided = self._next(requested, PaymentStatus.DECIDED, decision=decision.as_dict())
        plan = partial(self._creation_plan, requested, decided, decision, dict(request.payee))
        try:
            recorded = yield from self._record(plan)
        except _AlreadyRecorded:
            existing = self.find(payment_id)
            if existing is None:  # pragma: no cover - the claim committed with the payment
                raise Conflict(
                    "this payment is being created by another request; retry",
                    code=PaymentCode.PAYMENT_IN_FLIGHT,
                ) from None
            return self._replayed(existing, request_digest, owner), False
        return recorded, True

    def _requested(
        self,
        request: PaymentRequest,
        request_digest: str,
        payment_id: str,
        tenant_id: str,
        requested_by: str,
        idempotency_key: str | None,
    ) -> Payment:
        """The payment as requested (version 1), stamped now."""
        now = isoformat(self.clock.now())
        return Payment(
            payment_id=payment_id,
            tenant_id=tenant_id,
            status=PaymentStatus.REQUESTED,
            payer_account=request.payer_account,
            payee_ref=digest(dict(request.payee)),
            amount=request.amount,
            currency=request.currency,
            purpose=request.purpose,
            rail_preference=request.rail_preference,
            metadata=request.metadata,
            requested_by=requested_by,
            request_digest=request_digest,
            created_at=now,
            updated_at=now,
            idempotency_key=idempotency_key,
            version=1,
        )

    def _creation_plan(
        self,
        requested: Payment,
        decided: Payment,
        decision: PaymentDecision,
        payee: dict[str, Any],
        conn: Any,
    ) -> tuple[list[Step], list[Any]]:
        """Inside the ledger's transaction: claim the payment id (the payee row), then the
        requested and decided states, and a denial or (for an allow) the hold."""
        if not self.payees.put(conn, requested.payment_id, payee, tenant_id=requested.tenant_id):
            raise _AlreadyRecorded
        steps: list[Step] = [
            (requested, "requested", {}, [self._event(requested, "payment.initiated")]),
            (
                decided,
                "decided",
                {"decision": decision.as_dict()},
                self._decided(decided, decision),
            ),
        ]
        if decision.verdict == "deny":
            denied = self._next(decided, PaymentStatus.DENIED, failure_reason=decision.reason)
            steps.append((denied, "denied", {"reason": decision.reason}, []))
            return steps, []
        if decision.verdict == "allow":
            held, drafts = self._hold_steps(conn, decided)
            return steps + held, drafts
        return steps, []

    @staticmethod
    def _replayed(existing: Payment, request_digest: str, owner: str | None) -> Payment:
        require_same_request(
            owner=owner,
            recorded_by=existing.requested_by,
            recorded_fingerprint=existing.request_digest,
            fingerprint=request_digest,
            request_kind="payment request",
            recorded={"payment_id": existing.payment_id},
        )
        return existing

    def _decided(self, payment: Payment, decision: PaymentDecision) -> list[EventEnvelope]:
        events = [
            self._event(
                payment,
                "payment.decided",
                {"verdict": decision.verdict, "reason": decision.reason},
                causation=decision.decision_id,
            )
        ]
        if decision.risk_flags and decision.verdict != "allow":
            events.append(
                self._event(
                    payment,
                    "risk.alert",
                    {"verdict": decision.verdict, "flags": list(decision.risk_flags)},
                    causation=decision.decision_id,
                )
            )
        return events

    def _hold_steps(self, conn: Any, payment: Payment) -> tuple[list[Step], list[Any]]:
        """Place the hold in transaction `conn`: (steps, the hold's accounting drafts). On
        refusal (insufficient funds...) the payment fails, recorded, and nothing is held."""
        hold, drafts = self.holds.place(conn, payment)
        if isinstance(hold, PaygodError):
            failed = self._next(payment, PaymentStatus.FAILED, failure_reason=hold.detail)
            event = self._event(failed, "payment.failed", {"reason": hold.detail})
            return [(failed, "failed", {"hold_refused": hold.instance_code}, [event])], drafts
        held = self._next(payment, PaymentStatus.HELD, hold_id=hold)
        return [(held, "held", {"hold_id": hold}, [self._event(held, DISPATCH_EVENT)])], drafts

    # -- maker-checker --------------------------------------------------------------

    def _reviewable(self, payment_id: str, checker: str, tenant_id: str | None) -> Payment:
        payment = self.get(payment_id, tenant_id)
        verdict = (payment.decision or {}).get("verdict")
        if payment.status is not PaymentStatus.DECIDED or verdict != "review":
            raise NotInReview(
                f"payment {payment_id} is {payment.status.value}, not waiting for review"
            )
        self.second_person(payment.requested_by, checker)
        return payment

    def approve(
        self, payment_id: str, *, approver: str, note: str = "", tenant_id: str | None = None
    ) -> Payment:
        with self._lock(payment_id):
            payment = self._reviewable(payment_id, approver, tenant_id)
            approved, approval = self._reviewed(
                payment, approver, "approved", note, PaymentStatus.DECIDED
            )

            def plan(conn: Any) -> tuple[list[Step], list[Any]]:
                self._unchanged(payment)
                held, drafts = self._hold_steps(conn, approved)
                return [(approved, "approved", {"approval": approval}, []), *held], drafts

            return self._write(plan)

    def reject(
        self, payment_id: str, *, approver: str, note: str = "", tenant_id: str | None = None
    ) -> Payment:
        with self._lock(payment_id):
            payment = self._reviewable(payment_id, approver, tenant_id)
            rejected, approval = self._reviewed(
                payment,
                approver,
                "rejected",
                note,
                PaymentStatus.REJECTED,
                failure_reason=f"rejected in review by {approver}",
            )
            event = self._event(rejected, "payment.failed", {"reason": rejected.failure_reason})
            steps: list[Step] = [(rejected, "rejected", {"approval": approval}, [event])]

            def plan(conn: Any) -> tuple[list[Step], list[Any]]:
                self._unchanged(payment)
                return steps, []

            return self._write(plan)

    def _reviewed(
        self,
        payment: Payment,
        approver: str,
        verdict: str,
        note: str,
        status: PaymentStatus,
        **changes: Any,
    ) -> tuple[Payment, dict[str, Any]]:
        """The payment moved on by a checker's verdict, the verdict appended to its approvals."""
        at = isoformat(self.clock.now())
        approval = {"by": approver, "verdict": verdict, "note": note, "at": at}
        moved = self._next(payment, status, **changes)
        return replace(moved, approvals=(*payment.approvals, approval)), approval

    def _unchanged(self, payment: Payment) -> None:
        """Inside the write transaction: the payment is still the version the review was
        decided on. The payment lock is per process; with `serve --workers N` (or several
        API processes on PostgreSQL) an approval and a rejection arriving at two processes
        both read `decided` and both recorded, so a rejected payment was then approved and
        paid, or an approved one rejected with its hold left in place. Writers take turns on
        the ledger's write lock, so what the other process committed is visible here."""
        try:
            self._still(payment)
        except _PaymentMoved:
            current = self.find(payment.payment_id)
            status = current.status.value if current else "missing"
            raise NotInReview(
                f"payment {payment.payment_id} is {status}, not waiting for review"
            ) from None

    def _still(self, payment: Payment) -> None:
        """Inside the write transaction: raise `_PaymentMoved` if another process recorded
        a newer version of the payment since it was read (see `settle`)."""
        current = self.find(payment.payment_id)
        if current is None or current.version != payment.version:
            raise _PaymentMoved(payment.payment_id)

    # -- execution (called by the executor only) ------------------------------------

    def dispatch(self, payment_id: str) -> None:
        """`dispatch_steps` run to the end from this thread."""
        run_blocking(self.ledger, self.dispatch_steps(payment_id))

    def dispatch_steps(self, payment_id: str, *, wait: bool = True) -> Steps[None]:
        """Send a held payment to the best rail that takes it (falling back along the
        quote), recording the intent before each send and the rail's answer after.

        The payment's lock is held throughout: a settlement callback or an approval of the
        same payment waits for it. `wait=False` (an event loop, which must not block on a
        lock another thread holds) gives up at once with RetryLater instead."""
        lock = self._lock(payment_id)
        if not lock.acquire(blocking=wait):
            raise RetryLater(f"payment {payment_id} is being changed; trying again", delay=0.05)
        try:
            yield from self._dispatch(payment_id)
        finally:
            lock.release()

    def _dispatch(self, payment_id: str) -> Steps[None]:
        payment = self._dispatchable(payment_id)
        if payment is None:
            return  # already done: a redelivered message changes nothing
        if payment.status is PaymentStatus.DISPATCHING:
            found = yield from self._found_on_rail(payment)
            if found:
                return
        payee = self.payees.get(payment_id) or {}
        quote = self.quote(
            amount=payment.amount,
            currency=payment.currency,
            preference=payment.rail_preference,
            payee=payee,
        )
        fees = {o.rail: o.fee for o in quote.options}
        failures: list[str] = []
        for rail in quote.fallback_order:
            connector = self.connectors.get(rail)
            if connector is None:
                failures.append(f"{rail}: no connector configured")
                continue
            breaker = self.breakers.get(rail)
            if not breaker.allow():
                failures.append(f"{rail}: circuit open")
                continue
            intent = self._next(
                payment,
                PaymentStatus.DISPATCHING,
                rail=rail,
                fee=fees.get(rail),
                attempted_rails=(*payment.attempted_rails, rail),
            )
            evidence = {"rail": rail, "earlier_failures": list(failures)}
            payment = yield from self._record(self._intent(payment, intent, evidence))
            if payment.status is PaymentStatus.FAILED:
                return  # its hold no longer holds the money: nothing is sent
            instruction = _instruction(payment, rail, payee)
            sending = _RailCall(connector, partial(connector.send, instruction))
            yield from sending.steps
            try:
                receipt = sending.outcome()
            except RailUnavailable as exc:
                breaker.record_failure()
                failures.append(f"{rail}: {exc}")
                log.warning("rail_failed", payment_id=payment_id, rail=rail, error=str(exc))
                continue
            except RailRefused as exc:
                breaker.record_success()  # the rail answered; the instruction was wrong
                failures.append(f"{rail} refused: {exc}")
                continue
            breaker.record_success()
            yield from self._accepted(payment, receipt)
            return
        raise RailUnavailable("no rail took the payment: " + "; ".join(failures))

    def _dispatchable(self, payment_id: str) -> Payment | None:
        """The payment to dispatch; None when it is already done."""
        payment = self.find(payment_id)
        if payment is None:
            raise PermanentFailure(f"no payment {payment_id}")
        if payment.status in TERMINAL or payment.status is PaymentStatus.DISPATCHED:
            return None
        if payment.status not in (PaymentStatus.HELD, PaymentStatus.DISPATCHING):
            raise PermanentFailure(f"cannot dispatch a {payment.status.value} payment")
        if not self._allowed(payment):
            # The invariant of the loop: no side effect without a sealed allowing decision
            # (or a recorded approval of a reviewed one). Never reached by the normal flow.
            raise PermanentFailure(f"payment {payment_id} has no allowing decision")
        return payment

    def _found_on_rail(self, payment: Payment) -> Steps[bool]:
        """A payment left dispatching (a crash mid-send): asks the rails it was sent to,
        latest first; one that has it is accepted from there (True), never sent again."""
        for rail in reversed(payment.attempted_rails):
            connector = self.connectors.get(rail)
            if connector is None:
                continue
            looking = _RailCall(connector, partial(connector.lookup, payment.payment_id))
            yield from looking.steps
            receipt = looking.outcome()
            if receipt is not None:
                yield from self._accepted(replace(payment, rail=rail), receipt, via="rail lookup")
                return True
        return False

    def _intent(self, payment: Payment, intent: Payment, evidence: dict[str, Any]) -> Plan:
        """Record the intent to send, after checking in the same transaction that the hold
        still holds the money; if it does not (voided, posted, expired: by anyone), the
        payment fails closed instead and no rail is called."""

        def plan(conn: Any) -> tuple[list[Step], list[Any]]:
            problem = self.holds.problem(conn, payment)
            if problem is None:
                return [(intent, "dispatching", evidence, [])], []
            failed = self._next(
                payment,
                PaymentStatus.FAILED,
                failure_reason=f"hold {problem}; the payment was not sent",
            )
            event = self._event(failed, "payment.failed", {"reason": failed.failure_reason})
            # A hold that still holds (its mandate was revoked, say) is released with it.
            drafts = self.holds.abandon(conn, payment)
            return [(failed, "failed", {"hold_problem": problem}, [event])], drafts

        return plan

    @staticmethod
    def _allowed(payment: Payment) -> bool:
        decision = payment.decision or {}
        if not decision.get("decision_id"):
            return False
        if decision.get("verdict") == "allow":
            return True
        return decision.get("verdict") == "review" and any(
            a.get("verdict") == "approved" for a in payment.approvals
        )

    def _accepted(
        self, payment: Payment, receipt: RailReceipt, *, via: str = "send"
    ) -> Steps[Payment]:
        dispatched = self._next(
            payment, PaymentStatus.DISPATCHED, rail=receipt.rail, rail_reference=receipt.reference
        )
        evidence = {"receipt": receipt.as_dict(), "via": via}

        def plan(conn: Any) -> tuple[list[Step], list[Any]]:
            steps: list[Step] = [(dispatched, "dispatched", evidence, [])]
            if receipt.status not in ("settled", "failed"):
                return steps, []
            outcome, drafts = self._outcome_steps(conn, dispatched, receipt.status, receipt.detail)
            return steps + outcome, drafts

        return (yield from self._record(plan))

    def _outcome_steps(
        self, conn: Any, payment: Payment, status: str, detail: str
    ) -> tuple[list[Step], list[Any]]:
        """The rail's final word, recorded with the hold's resolution in transaction `conn`."""
        if status == "settled":
            drafts = self.holds.post(conn, payment)
            settled = self._next(payment, PaymentStatus.SETTLED)
            event = self._event(settled, "payment.settled", {"rail": payment.rail})
            return [(settled, "settled", {"detail": detail}, [event])], drafts
        if status == "reversed":
            drafts = self.holds.reverse(conn, payment)
            reversed_ = self._next(payment, PaymentStatus.REVERSED, failure_reason=detail)
            event = self._event(reversed_, "payment.reversed", {"reason": detail})
            return [(reversed_, "reversed", {"detail": detail}, [event])], drafts
        drafts = self.holds.release(conn, payment)
        failed = self._next(payment, PaymentStatus.FAILED, failure_reason=detail or "rail failed")
        event = self._event(failed, "payment.failed", {"reason": failed.failure_reason})
        return [(failed, "failed", {"detail": detail}, [event])], drafts

    def settle(self, notice: SettlementNotice) -> Payment | None:
        """A rail's settlement callback (simulated rail) or a verified webhook.

        The payment lock is per process: two notices for one payment reaching two API
        processes at once both read the same state. Each plan checks, inside the write
        transaction, that the payment is still the version it was planned on; if another
        process moved it meanwhile the notice is judged again on the new state (a
        duplicate is then a 200, a contradiction a 409), never recorded twice.
        """
        with self._lock(notice.idempotency_key):
            for _attempt in range(3):
                try:
                    return self._settle(notice)
                except _PaymentMoved:
                    continue
            raise Conflict(  # pragma: no cover - three other writers in a row
                f"payment {notice.idempotency_key} keeps changing; send the notice again",
                code=PaymentCode.PAYMENT_BUSY,
            )

    def _settle(self, notice: SettlementNotice) -> Payment | None:
        payment = self.find(notice.idempotency_key)
        if payment is None:
            raise NotFound(f"no payment {notice.idempotency_key}")
        if payment.attempted_rails and notice.rail not in payment.attempted_rails:
            # The webhook path names the rail and the signature does not cover the path: a
            # notice for a rail this payment was never sent through (/webhooks/bogus) was
            # recorded as that rail's settlement. Only a rail we sent it to can settle it.
            raise Conflict(
                f"payment {payment.payment_id} was sent through "
                f"{', '.join(payment.attempted_rails)}, not {notice.rail!r}; nothing was recorded",
                code=PaymentCode.WRONG_RAIL,
            )
        if notice.status == "reversed" and payment.status is PaymentStatus.SETTLED:
            settled = payment

            def reversal(conn: Any) -> tuple[list[Step], list[Any]]:
                self._still(settled)
                return self._outcome_steps(conn, settled, "reversed", notice.detail)

            return self._write(reversal)
        if payment.status in TERMINAL:
            if notice.status in _NOTICES_SEEN.get(payment.status, ()):
                return payment  # a duplicate, or a late one the payment has moved past
            # Before, any notice on a finished payment was a 200 "duplicate": a rail's
            # `settled` for a payment whose hold was voided (failed), or a `failed`
            # after settlement, was swallowed, and the partner took it as processed.
            never_sent = payment.status in (PaymentStatus.DENIED, PaymentStatus.REJECTED)
            raise Conflict(
                f"payment is {payment.status.value}; a {notice.status!r} notice "
                "contradicts it; nothing was recorded",
                code=PaymentCode.NOT_DISPATCHED
                if never_sent
                else PaymentCode.NOTICE_CONTRADICTS_STATE,
            )
        if payment.status not in (PaymentStatus.DISPATCHING, PaymentStatus.DISPATCHED):
            raise NotDispatched(f"payment is {payment.status.value}; a rail cannot have settled it")
        first: list[Step] = []
        seen = payment
        if payment.status is PaymentStatus.DISPATCHING:
            payment = self._next(
                payment,
                PaymentStatus.DISPATCHED,
                rail=notice.rail,
                rail_reference=notice.reference or payment.rail_reference,
            )
            first.append((payment, "dispatched", {"via": "settlement notice"}, []))
        dispatched = payment
        planned_on = seen

        def plan(conn: Any) -> tuple[list[Step], list[Any]]:
            self._still(planned_on)
            outcome, drafts = self._outcome_steps(conn, dispatched, notice.status, notice.detail)
            return first + outcome, drafts

        return self._write(plan)

    def receive_webhook(self, rail: str, header: str | None, body: bytes) -> Payment | None:
        """An inbound settlement webhook: verified, or refused and counted (never recorded).

        In this order, nothing read before it is trusted: the rail is one configured here
        (else 404), the signature verifies (else 401), and only then is the body parsed and
        anything recorded. A refusal adds to `refusals` (by rail and reason) and writes
        nothing: the route needs no credential, so whatever it would record is the
        sender's choice."""
        if rail not in self.connectors:
            self.refusals.add("unknown", "unknown_rail")
            raise NotFound("no such rail", code=PaymentCode.UNKNOWN_RAIL)
        if self.webhook_secret is None:
            self.refusals.add(rail, "no_secret")
            raise Unauthorized("no webhook secret is configured", code=PaymentCode.WEBHOOK_REJECTED)
        try:
            verify(
                self.webhook_secret,
                header,
                body,
                now=int(self.clock.now().timestamp()),
                tolerance=self.webhook_tolerance,
                guard=self.replay_guard,
            )
        except WebhookRejected as exc:
            self.refusals.add(rail, exc.reason)
            log.info(
                "webhook_refused",
                rail=rail,
                reason=exc.reason,
                body_digest="sha256:" + hashlib.sha256(body).hexdigest(),
                header_length=len(header or ""),
            )
            raise Unauthorized(
                f"settlement webhook refused: {exc.detail}", code=webhook_code(exc.reason)
            ) from None
        try:
            data = orjson.loads(body)
        except orjson.JSONDecodeError:
            raise InvalidInput("webhook body is not JSON") from None
        if secrets_found := credential_problems(data):
            # A signed sender is still no reason to seal a credential it pasted in.
            raise InvalidInput(
                "the body holds a credential; nothing was recorded", errors=secrets_found
            )
        key = (
            data.get("idempotency_key") or data.get("payment_id")
            if isinstance(data, dict)
            else None
        )
        status = data.get("status") if isinstance(data, dict) else None
        errors = []
        if not isinstance(key, str) or not key:
            errors.append(FieldError("/idempotency_key", "the payment id, a string"))
        if status not in ("settled", "failed", "reversed"):
            errors.append(FieldError("/status", "settled, failed or reversed"))
        if errors or not isinstance(key, str):
            raise InvalidInput(
                "webhook needs idempotency_key and status settled|failed|reversed", errors=errors
            )
        return self.settle(
            SettlementNotice(
                rail,
                key,
                str(status),
                str(data.get("reference", "")),
                str(data.get("detail", "")),
            )
        )

    # -- recording ------------------------------------------------------------------

    def _next(self, payment: Payment, status: PaymentStatus, **changes: Any) -> Payment:
        return payment.move_to(status, isoformat(self.clock.now()), **changes)

    def _event(
        self,
        payment: Payment,
        event_type: str,
        extra: Mapping[str, Any] | None = None,
        *,
        causation: str | None = None,
    ) -> EventEnvelope:
        now = self.clock.now()
        payload = {
            "payment_id": payment.payment_id,
            "status": payment.status.value,
            "amount": payment.amount,
            "currency": payment.currency,
            "payer_account": payment.payer_account,
            **(extra or {}),
        }
        return EventEnvelope(
            event_type=event_type,
            aggregate_id=payment.payment_id,
            aggregate_type="payment",
            tenant_id=payment.tenant_id,
            payload=payload,
            occurred_at=now,
            recorded_at=now,
            correlation_id=payment.payment_id,
            causation_id=causation or (payment.decision or {}).get("decision_id"),
        )

    def _write(self, plan: Plan) -> Payment:
        """`_record` run to the end from this thread."""
        return run_blocking(self.ledger, self._record(plan))

    def _record(self, plan: Plan) -> Steps[Payment]:
        """Record a transition in one ledger transaction: `plan(conn)` runs inside it and
        returns the payment steps and the drafts that go before them (the accounting
        entries of a hold it placed or resolved there). Returns the last state."""

        def work(conn: Any) -> tuple[list[Step], list[Any]]:
            steps, before = plan(conn)
            self.index.record(conn, [p for p, *_ in steps])
            drafts = [
                EntryDraft(
                    kind="payment",
                    subject=subject_of(p.payment_id),
                    payload={"transition": name, "payment": p.as_dict(), "evidence": evidence},
                    tenant_id=p.tenant_id,
                    events=tuple(events),
                )
                for p, name, evidence, events in steps
            ]
            return steps, [*before, *drafts]

        request = self.ledger.transaction(work)
        yield request
        steps, _ = self.ledger.outcome(request)
        for payment, name, *_ in steps:
            observations.payment_moved(payment.status.value, payment.rail)
            if name == "held":
                self.holds.committed(payment)
        queued = any(e.event_type == DISPATCH_EVENT for *_, events in steps for e in events)
        if queued and self.on_queued is not None:
            self.on_queued()
        last: Payment = steps[-1][0]
        return last


class PaymentLock:
    """One payment's lock: a context manager, and `acquire(blocking=False)` for a loop.

    A class around `threading.Lock` only because a bare lock cannot be weakly referenced:
    the service keeps its locks in a WeakValueDictionary, so a payment's lock lives exactly
    as long as someone holds or waits for it, however many payments pass through."""

    __slots__ = ("__weakref__", "_lock")

    def __init__(self) -> None:
        self._lock = threading.Lock()

    def acquire(self, blocking: bool = True) -> bool:
        return self._lock.acquire(blocking)

    def release(self) -> None:
        self._lock.release()

    def __enter__(self) -> PaymentLock:
        self._lock.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self._lock.release()


class _RailCall:
    """A connector call as steps: offloaded to a thread when the connector does I/O
    (`blocking`, true unless it says otherwise), made in place when it does none."""

    def __init__(self, connector: RailConnector, call: Callable[[], Any]) -> None:
        self._call = Offload(_observed(str(getattr(connector, "name", "rail")), call))
        self._inline = not getattr(connector, "blocking", True)

    @property
    def steps(self) -> Steps[None]:
        if self._inline:
            self._call.run()
        else:
            yield self._call

    def outcome(self) -> Any:
        return self._call.outcome()


def _observed(rail: str, call: Callable[[], Any]) -> Callable[[], Any]:
    """`call` counted and timed for /metrics, inside a client span of the trace current
    here (the call itself may run in another thread, which does not inherit it)."""
    traceparent = tracing.current_traceparent()

    def observed() -> Any:
        outcome = "success"
        started = time.perf_counter()
        try:
            with tracing.span(f"paygod.rail {rail}", traceparent, kind="client") as span:
                span.set_attribute("paygod.rail", rail)
                return call()
        except RailRefused:
            outcome = "refused"
            raise
        except Exception:
            outcome = "unavailable"
            raise
        finally:
            observations.rail_called(rail, outcome, time.perf_counter() - started)

    return observed


class _PaymentMoved(Exception):
    """Raised inside a settlement's transaction: another process changed the payment."""


def _instruction(payment: Payment, rail: str, payee: Mapping[str, Any]) -> PaymentInstruction:
    """What is sent to a rail; the payment id is the rail's idempotency key."""
    return PaymentInstruction(
        payment_id=payment.payment_id,
        rail=rail,
        amount=payment.amount,
        currency=payment.currency,
        payee=payee,
        payer_account=payment.payer_account,
        purpose=payment.purpose,
        tenant_id=payment.tenant_id,
        idempotency_key=payment.payment_id,
    )


class _AlreadyRecorded(Exception):
    """Raised inside a create's transaction when another request recorded the payment."""


# The rail notices a finished payment has already taken in: settled -> reversed is a
# transition; these are duplicates (or arrive late, out of order) and change nothing.
_NOTICES_SEEN: dict[PaymentStatus, frozenset[str]] = {
    PaymentStatus.SETTLED: frozenset({"settled"}),
    PaymentStatus.REVERSED: frozenset({"settled", "reversed"}),
    PaymentStatus.FAILED: frozenset({"failed"}),
}


def _fixed(steps: list[Step]) -> Plan:
    """A plan that touches no balance: these steps, nothing before them."""
    return lambda conn: (steps, [])


def _request_digest(request: Mapping[str, Any]) -> str:
    """The idempotency fingerprint; a field with no RFC 8785 form is bad input, not a crash."""
    unsafe = unsafe_numbers(dict(request))
    if unsafe:
        raise InvalidInput(
            "payment request cannot be sealed",
            errors=[FieldError(where, reason) for where, reason in unsafe],
        )
    try:
        return digest(request)
    except CanonicalizationError:
        for field, value in request.items():
            try:
                digest(value)
            except CanonicalizationError as exc:
                raise InvalidInput(
                    "payment request cannot be sealed",
                    errors=[FieldError(f"/{field}{exc.pointer}", str(exc))],
                ) from None
        raise
