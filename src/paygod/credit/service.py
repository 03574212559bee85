"""Credit applications on the kernel: every step sealed in the ledger, its events in the
outbox (entries about subject `credit-application:<id>` carry the application's state; one
tenant-tagged entry per application on subject `credit-application-book` lists them)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from paygod.canonical import digest
from paygod.credit import listing, model
from paygod.credit.bureau import simulated_account, simulated_kyc
from paygod.credit.errors import CreditCode
from paygod.credit.locks import KeyedLocks
from paygod.credit.model import Application, ApplicationStatus
from paygod.credit.ports import BureauUnavailable, CreditBureau, DecisionRuntime
from paygod.credit.products import CATALOG, Product
from paygod.credit.providers import Provider, ProviderUnavailable
from paygod.credit.saga import ApplicationSaga, RawVault, Screening
from paygod.kernel.clock import Clock, isoformat, parse_instant
from paygod.kernel.errors import (
    Conflict,
    FieldError,
    Forbidden,
    InvalidInput,
    NotFound,
    PaygodError,
)
from paygod.kernel.events import EventEnvelope
from paygod.kernel.identifiers import subject_problem
from paygod.kernel.written import written_message
from paygod.ledger import EntryDraft, LedgerService, presealed

NAMESPACE = uuid.UUID("5b0f8a46-6f3e-4f43-9d59-6a1c3e0c7a21")
KIND = "credit.application"
MAX_PAGE = 1000
MAX_REASON = 200
_FIELDS = (
    "product_id",
    "applicant_ref",
    "amount",
    "currency",
    "payments",
    "monthly_income",
    "monthly_debt",
)


def subject_of(application_id: str) -> str:
    return f"credit-application:{application_id}"


def _bad(pointer: str, message: str) -> InvalidInput:
    return InvalidInput(
        f"invalid credit application: {message}", errors=[FieldError(pointer, message)]
    )


def _whole(body: Mapping[str, Any], key: str, low: int, high: int) -> int:
    value = body.get(key)
    if isinstance(value, bool) or not isinstance(value, int):
        raise _bad(f"/{key}", f"{key} must be a whole number")
    if not low <= value <= high:
        raise _bad(f"/{key}", f"{key} must be between {low} and {high}")
    return value


def _payments(body: Mapping[str, Any], product: Product) -> int:
    """A term loan's number of payments, in the product's range. A credit line has no term:
    `payments` may be left out and, when given, must be a whole number but is ignored; the
    application records the product's affordability horizon (`min_payments`)."""
    if product.kind != "credit_line":
        return _whole(body, "payments", product.min_payments, product.max_payments)
    if "payments" in body:
        _whole(body, "payments", 1, 10**6)
    return product.min_payments


def parse_application(body: Mapping[str, Any]) -> tuple[Product, dict[str, Any]]:
    """The request's own errors, each with its pointer; nothing is recorded for them."""
    for key in body:
        if key not in _FIELDS:
            raise _bad(f"/{key}", f"unknown field {key!r}")
    product = CATALOG.get(str(body.get("product_id")))
    if product is None:
        raise _bad("/product_id", f"product_id must be one of {', '.join(sorted(CATALOG))}")
    ref = body.get("applicant_ref")
    if not isinstance(ref, str) or not ref.startswith("urn:") or subject_problem(ref):
        raise _bad("/applicant_ref", "applicant_ref must be a urn: reference (no personal data)")
    currency = body.get("currency")
    if currency not in product.currencies:
        raise _bad("/currency", f"currency must be one of {', '.join(product.currencies)}")
    fields = {
        "product_id": product.product_id,
        "applicant_ref": ref,
        "currency": currency,
        "amount": _whole(body, "amount", product.min_amount, product.max_amount),
        "payments": _payments(body, product),
        "monthly_income": _whole(body, "monthly_income", 1, 10**12),
        "monthly_debt": _whole(body, "monthly_debt", 0, 10**12) if "monthly_debt" in body else 0,
    }
    return product, fields


def parse_withdrawal(body: Mapping[str, Any]) -> str | None:
    """The withdrawal's reason (optional, free text sealed in the ledger and printed in
    audit output: bounded, no hidden characters, no personal data or credential)."""
    for key in body:
        if key != "reason":
            raise InvalidInput(f"unknown field {key!r}", errors=[FieldError(f"/{key}", "unknown")])
    reason = body.get("reason")
    if reason is None:
        return None
    if not isinstance(reason, str) or not reason.strip() or len(reason) > MAX_REASON:
        message = f"reason must be 1 to {MAX_REASON} characters"
        raise InvalidInput(message, errors=[FieldError("/reason", message)])
    if problem := written_message(reason):
        raise InvalidInput(f"reason: {problem}", errors=[FieldError("/reason", problem)])
    return reason


class CreditService:
    def __init__(
        self,
        ledger: LedgerService,
        clock: Clock,
        bureau: CreditBureau,
        *,
        decisions: DecisionRuntime,
        kyc: Provider | None = None,
        account: Provider | None = None,
        screening: Screening | None = None,
        vault: RawVault | None = None,
        inline: bool = True,
    ) -> None:
        self.ledger = ledger
        self.clock = clock
        self.bureau = bureau
        self._lock = KeyedLocks()
        self.saga = ApplicationSaga(
            self,
            bureau,
            kyc or simulated_kyc(),
            account or simulated_account(),
            decisions,
            screening,
            vault,
        )
        # Without a worker (tests, the CLI), submit runs the saga's steps in the caller's
        # thread; with one, `inline=False` returns at once and the worker advances it.
        self.inline = inline

    # -- reads --------------------------------------------------------------------------

    def find(self, application_id: str, at: datetime | None = None) -> Application | None:
        latest = self.ledger.latest(subject_of(application_id), KIND, recorded_at=at)
        return Application.from_dict(latest.payload["application"]) if latest else None

    def version_of(self, application_id: str) -> int | None:
        """The application's current version, None if never submitted: what a step's
        write transaction checks, read without rebuilding the application (in the writer)."""
        latest = self.ledger.latest(subject_of(application_id), KIND)
        return int(latest.payload["application"]["version"]) if latest else None

    def get(
        self,
        application_id: str,
        tenant_id: str | None = None,
        owner: str | None = None,
        at: datetime | None = None,
    ) -> Application:
        found = self.find(application_id, at)
        if (
            found is None
            or (tenant_id is not None and found.tenant_id != tenant_id)
            or (owner is not None and found.applicant != owner)
        ):
            raise NotFound(f"no credit application {application_id}")
        return found

    def history(self, application_id: str) -> list[dict[str, Any]]:
        return [
            {"seq": e.seq, "recorded_at": e.timestamp, "transition": e.payload["transition"]}
            for e in self.ledger.history(subject_of(application_id))
            if e.kind == KIND
        ]

    def application_ids(
        self, tenant_id: str | None, owner: str | None = None, at: datetime | None = None
    ) -> list[str]:
        """Ids in the order they were submitted, from the book (one indexed range read of
        the tenant's book entries, not a scan of the ledger)."""
        return listing.APPLICATIONS.ids(self.ledger, tenant_id, owner, at)

    def applications(
        self,
        tenant_id: str | None,
        owner: str | None = None,
        *,
        status: ApplicationStatus | None = None,
        at: datetime | None = None,
        after: str | None = None,
        limit: int = 100,
    ) -> list[Application]:
        """The tenant's applications (an applicant's own with `owner`), oldest first, each
        as recorded by `at` (default now), those in `status` only; at most `limit`, from the
        one after `after` (the last id of the page before). Each is read from its last
        entry, until the page is full."""
        if not 1 <= limit <= MAX_PAGE:
            message = f"limit must be 1 to {MAX_PAGE}"
            raise InvalidInput(message, errors=[FieldError("#query/limit", message)])
        ids = self.application_ids(tenant_id, owner, at)
        if after is not None:
            try:
                ids = ids[ids.index(after) + 1 :]
            except ValueError:
                raise InvalidInput(
                    f"after: no application {after} in this list",
                    errors=[FieldError("#query/after", "not an application of this list")],
                ) from None
        page: list[Application] = []
        for application_id in ids:
            found = self.find(application_id, at)
            if found is not None and (status is None or found.status is status):
                page.append(found)
                if len(page) == limit:
                    break
        return page

    # -- writes -------------------------------------------------------------------------

    def submit(
        self,
        body: Mapping[str, Any],
        *,
        tenant_id: str,
        applicant: str,
        idempotency_key: str | None = None,
    ) -> tuple[Application, bool]:
        """Seal `submitted` and the saga's first message; inline, run the saga to its end."""
        _product, fields = parse_application(body)
        request_digest = digest(fields)
        application_id = (
            str(uuid.uuid5(NAMESPACE, f"{tenant_id}\x00{idempotency_key}"))
            if idempotency_key
            else str(uuid.uuid4())
        )
        with self._lock(application_id):
            existing = self.find(application_id)
            if existing is not None:
                if existing.tenant_id != tenant_id or existing.applicant != applicant:
                    raise Conflict("this Idempotency-Key names another application")
                if existing.request_digest != request_digest:
                    raise Conflict("this Idempotency-Key was used with another request")
                return existing, False
            at = isoformat(self.clock.now())
            submitted = Application(
                application_id=application_id,
                tenant_id=tenant_id,
                applicant=applicant,
                status=ApplicationStatus.SUBMITTED,
                created_at=at,
                updated_at=at,
                idempotency_key=idempotency_key,
                request_digest=request_digest,
                **fields,
            )
            created = self._event(
                submitted,
                model.APPLICATION_CREATED,
                {
                    "product_id": submitted.product_id,
                    "amount": submitted.amount,
                    "currency": submitted.currency,
                    "request_digest": request_digest,
                },
            )
            book = presealed(listing.APPLICATIONS.entry(application_id, applicant, tenant_id))
            # The saga's first message rides in this transaction (saga.py); the book entry
            # too, so the list never misses an application nor names one never recorded.
            self.ledger.append_many([book, self._draft(submitted, "submitted", [created])])
        if not self.inline:
            return submitted, True
        try:
            return self.saga.advance(application_id, submitted) or submitted, True
        except (BureauUnavailable, ProviderUnavailable):
            # A defined transition, not an error: the application stays `submitted` and
            # its step is retried from the outbox (then dead-lettered, then replayable).
            return self.find(application_id) or submitted, True

    def accept(self, application_id: str, *, tenant_id: str | None, signer: str) -> Application:
        """The borrower's e-signature over the contract document, whose digest is sealed."""
        with self._lock(application_id):
            application = self.get(application_id, tenant_id)
            if signer != application.applicant:
                raise Forbidden("only the applicant may sign the credit contract")
            now = self.clock.now()
            offer = application.offer or {}
            if _expired_offer(application, now):
                raise Conflict(
                    f"the offer expired at {offer['expires_at']}; nothing was recorded",
                    code=CreditCode.OFFER_EXPIRED,
                )
            document = contract_document(application)
            contract = {
                "document_digest": digest(document),
                "signed_by": signer,
                "signed_at": isoformat(now),
                "signature_event": "e-sign",
            }
            accepted = application.move_to(
                ApplicationStatus.ACCEPTED, isoformat(now), contract=contract
            )
            event = self._event(
                accepted,
                model.OFFER_ACCEPTED,
                {
                    "document_digest": contract["document_digest"],
                    "signed_by": signer,
                    "apr": offer["disclosure"]["annual_percentage_rate"],
                },
            )
            return self._seal(application, accepted, [event])

    def withdraw(
        self,
        application_id: str,
        *,
        tenant_id: str | None,
        owner: str | None,
        by: str,
        reason: str | None = None,
    ) -> Application:
        """End an application before acceptance (submitted, checked, assessed, offered):
        sealed as its new version with `CreditApplicationWithdrawn`. From any other state,
        a second withdrawal included, 409 `application-<state>` and nothing recorded, as a
        second acceptance is. `owner`: an applicant (scope `own`) withdraws only its own."""
        with self._lock(application_id):
            application = self.get(application_id, tenant_id, owner)
            at = isoformat(self.clock.now())
            withdrawal = {
                "withdrawn_by": by,
                "withdrawn_at": at,
                "from_status": application.status.value,
                "reason": reason,
            }
            withdrawn = application.move_to(ApplicationStatus.WITHDRAWN, at, withdrawal=withdrawal)
            event = self._event(withdrawn, model.APPLICATION_WITHDRAWN, withdrawal)
            return self._seal(application, withdrawn, [event])

    def expire(self, application_id: str) -> Application | None:
        """An offer past its expiry moves to `expired`, sealed with `CreditOfferExpired`;
        None (nothing recorded) for an application that is not such an offer."""
        with self._lock(application_id):
            application = self.find(application_id)
            now = self.clock.now()
            if application is None or not _expired_offer(application, now):
                return None
            moved = application.move_to(ApplicationStatus.EXPIRED, isoformat(now))
            offer = application.offer or {}
            event = self._event(moved, model.OFFER_EXPIRED, {"expires_at": offer["expires_at"]})
            return self._seal(application, moved, [event])

    def expire_offers(self) -> list[str]:
        """Every offer of every tenant past its expiry expired (the periodic housekeeping
        task): the list, the portfolio and `?at=` then say so, where the application
        would stay `offered`, an offer nobody can take any more."""
        now = self.clock.now()
        done = []
        for application_id in self.application_ids(None):
            application = self.find(application_id)
            if application is None or not _expired_offer(application, now):
                continue
            try:
                if self.expire(application_id) is not None:
                    done.append(application_id)
            except PaygodError:
                continue  # moved meanwhile (accepted, withdrawn): nothing to expire
        return done

    # -- recording ----------------------------------------------------------------------

    def _seal(
        self, before: Application, moved: Application, events: list[EventEnvelope]
    ) -> Application:
        """Seal `moved` if the application is still `before` when the writer takes it."""
        draft = self._draft(moved, moved.status.value, events)  # before the writer

        def work(conn: Any) -> tuple[None, list[EntryDraft]]:
            self._still(before)
            return None, [draft]

        self.ledger.transact(work)
        return moved

    def _still(self, application: Application) -> None:
        """Inside the write transaction, where every ledger writer (of this process and of
        any other on the same store) waits its turn: nobody sealed another version since
        `application` was read. The per-application lock keeps this process's writers
        apart; this keeps a saga step of another process (a standalone worker) from being
        overwritten by a withdrawal or an acceptance, and the reverse."""
        if self.version_of(application.application_id) != application.version:
            raise Conflict(
                f"application {application.application_id} changed while this step was "
                "prepared; nothing was recorded",
                code=CreditCode.APPLICATION_CHANGED,
            )

    def _draft(
        self, application: Application, transition: str, events: list[EventEnvelope]
    ) -> EntryDraft:
        return version_draft(
            KIND,
            subject_of(application.application_id),
            application.tenant_id,
            {"transition": transition, "application": application.as_dict()},
            events,
        )

    def _event(
        self, application: Application, event_type: str, extra: Mapping[str, Any]
    ) -> EventEnvelope:
        now = self.clock.now()
        return EventEnvelope(
            event_type=event_type,
            aggregate_id=application.application_id,
            aggregate_type="credit_application",
            tenant_id=application.tenant_id,
            payload={
                "application_id": application.application_id,
                "status": application.status.value,
                # Whom a notification subscription tells: the applicant principal.
                "principal_id": application.applicant,
                **extra,
            },
            occurred_at=now,
            recorded_at=now,
            correlation_id=application.application_id,
        )


def version_draft(
    kind: str,
    subject: str,
    tenant_id: str,
    payload: dict[str, Any],
    events: list[EventEnvelope],
) -> EntryDraft:
    """An aggregate's new version (application, loan) as an entry, serialised now
    (`presealed`): callers build it before their transaction where they can, so the
    ledger's single writer only hashes it."""
    return presealed(
        EntryDraft(
            kind=kind, subject=subject, payload=payload, tenant_id=tenant_id, events=tuple(events)
        )
    )


def contract_document(application: Application) -> dict[str, Any]:
    """The terms as signed: what the digest in the ledger covers (no personal data)."""
    offer = application.offer or {}
    document: dict[str, Any] = {
        "document": "paygod/credit-contract/v1",
        "application_id": application.application_id,
        "applicant_ref": application.applicant_ref,
        "product": CATALOG[application.product_id].as_dict(),
        "principal": application.amount,
        "currency": application.currency,
        "annual_rate": offer.get("annual_rate"),
        "disclosure": offer.get("disclosure"),
        "schedule": offer.get("schedule"),
    }
    if "credit_limit" in offer:
        # A revolving line's terms: its limit instead of a principal, no schedule.
        del document["principal"], document["schedule"]
        document["credit_limit"] = offer["credit_limit"]
    return document


def _expired_offer(application: Application, now: datetime) -> bool:
    offer = application.offer or {}
    return application.status is ApplicationStatus.OFFERED and now >= parse_instant(
        str(offer["expires_at"])
    )
