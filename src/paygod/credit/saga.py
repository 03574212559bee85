"""The application saga: submitted → (KYC → screening) ∥ bureau ∥ account → underwriting
(a sealed decision of the kernel's decision service: the pack `credit-underwriting` with
the risk module's score) → offer, each step an outbox message handled by the executor's
worker.

Each step is triggered by the event the step before sealed, and seals its own result and
the next step's event in ONE ledger transaction (the ledger writes the outbox row in the
same transaction), so a crash at any point leaves either the step undone (its message is
claimed again when its lease ends) or done with its successor queued — never half.
Idempotent by (application, step): a step runs only from the status before it and checks,
inside the write transaction, that the application is still the version it read, so a
second delivery or a racing worker records nothing. An application withdrawn meanwhile
(`CreditService.withdraw`) is past every step: its pending message finds it withdrawn, or
its write transaction finds another version sealed, and records nothing.

| trigger event            | step   | from      | to                 | seals                    |
|--------------------------|--------|-----------|--------------------|--------------------------|
| CreditApplicationCreated | checks | submitted | checked / declined | ComplianceCheckCompleted |
| ComplianceCheckCompleted | assess | checked   | assessed           | RiskAssessmentCompleted  |
| RiskAssessmentCompleted  | decide | assessed  | offered / declined | ApplicationProcessed     |

The assess step is sealed in the underwriting decision's own transaction (the decision
service's `companions`), under an idempotency key of the application: the decision and the
step commit together or not at all; a step run again finds the decision its key sealed and
seals the step on it, never a second decision. The decide step's result (offer or decline)
follows from the verdict alone, so it is sealed in that same transaction, after the
`assessed` version: the decide message then finds the application offered and records
nothing. Only an assess step sealed on an earlier run's decision leaves `decide` to its own
transaction.

Compensation: a failed compliance check (identity not verified, a screening hit, an
account that does not verify) declines the application with its reason in the same
transaction; a provider that never answers leaves the step in the dead-letter queue
(replay it with `paygod executor dlq retry <event id>`), the application still `submitted`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from paygod.canonical import digest
from paygod.credit import model
from paygod.credit.model import Application, ApplicationStatus
from paygod.credit.offers import make_line_offer, make_offer
from paygod.credit.ports import BureauReport, CreditBureau, DecisionRuntime
from paygod.credit.products import CATALOG
from paygod.credit.providers import Provider
from paygod.credit.schedule import ScheduleTerms, level_payment
from paygod.credit.underwriting import debt_to_income, decision_request, read_decision
from paygod.kernel.clock import isoformat
from paygod.kernel.errors import Conflict
from paygod.kernel.events import EventEnvelope
from paygod.ledger import EntryDraft

if TYPE_CHECKING:
    from paygod.credit.service import CreditService
    from paygod.executor.model import OutboxMessage
    from paygod.executor.worker import Worker

STEPS: Mapping[ApplicationStatus, str] = {
    ApplicationStatus.SUBMITTED: "checks",
    ApplicationStatus.CHECKED: "assess",
    ApplicationStatus.ASSESSED: "decide",
}
TRIGGERS: Mapping[str, ApplicationStatus] = {
    model.APPLICATION_CREATED: ApplicationStatus.SUBMITTED,
    model.COMPLIANCE_CHECKED: ApplicationStatus.CHECKED,
    model.RISK_ASSESSED: ApplicationStatus.ASSESSED,
}
# Adverse-action codes of the compliance step (the scorecard's are R01–R08).
K_IDENTITY = ("K01", "identity could not be verified")
K_SCREENING = ("K02", "sanctions or AML screening requires review")
K_ACCOUNT = ("K03", "the bank account could not be verified")


class Screening(Protocol):
    """AML/sanctions screening of a verified name: `{"decision": "hit"|"no-hit", "hits": n}`."""

    def screen_name(self, tenant_id: str, name: str) -> dict[str, Any]: ...


class VaultRecordRef(Protocol):
    @property
    def urn(self) -> str: ...

    @property
    def digest(self) -> str: ...


class RawVault(Protocol):
    """The PII vault (paygod.privacy), sealing on the caller's transaction."""

    def seal_in(
        self, conn: Any, tenant_id: str, subject: str, record_class: str, data: Mapping[str, Any]
    ) -> VaultRecordRef: ...


@dataclass(frozen=True)
class Answers:
    """What the providers said in the checks step (raw answers go to the vault only)."""

    report: BureauReport
    kyc: dict[str, Any]
    screening: dict[str, Any]
    account: dict[str, Any]


class _Unset:
    """No offer made beforehand: `_decided` makes it."""


_UNSET = _Unset()


class ApplicationSaga:
    def __init__(
        self,
        service: CreditService,
        bureau: CreditBureau,
        kyc: Provider,
        account: Provider,
        decisions: DecisionRuntime,
        screening: Screening | None = None,
        vault: RawVault | None = None,
    ) -> None:
        self.service = service
        self.bureau = bureau
        self.decisions = decisions
        self.kyc = kyc
        self.account = account
        self.screening = screening
        self.vault = vault
        self._pool = ThreadPoolExecutor(8, thread_name_prefix="credit-saga")

    def register(self, worker: Worker) -> None:
        for event_type, status in TRIGGERS.items():
            worker.register(event_type, self._handler(status))

    def _handler(self, status: ApplicationStatus) -> Callable[[OutboxMessage], None]:
        def handle(message: OutboxMessage) -> None:
            self.run(message.aggregate_id, status)

        return handle

    def advance(self, application_id: str, known: Application | None = None) -> Application | None:
        """Run every step due, in order, until the application waits or ends (inline mode:
        no worker runs; the worker later finds each step done and records nothing).
        `known`: the application as this caller just sealed it, so it is not read again."""
        application = known or self.service.find(application_id)
        while application is not None and application.status in STEPS:
            application = self.run(application_id, application.status, application)
        return application

    def run(
        self,
        application_id: str,
        expected: ApplicationStatus,
        known: Application | None = None,
    ) -> Application | None:
        """One step, if the application is still where the step starts; else nothing.
        Returns the application as the step left it (re-read when it did nothing).

        `known`: the application as the caller's previous step sealed it (inline mode),
        taken instead of a read; if another process moved it meanwhile, the step's write
        transaction finds it moved (`_still`) and records nothing."""
        with self.service._lock(application_id):
            application = known if known is not None else self.service.find(application_id)
            if application is None or application.status is not expected:
                return application  # done already (a redelivery), or never submitted
            step: Callable[[Application], Application] = getattr(self, f"_{STEPS[expected]}")
            try:
                return step(application)
            except Conflict:
                return self.service.find(application_id)  # another process sealed it first

    # -- steps ---------------------------------------------------------------------------

    def _ask(self, application: Application) -> Answers:
        ref = application.applicant_ref
        bureau = self._pool.submit(self.bureau.report, ref)
        account = self._pool.submit(self.account.fetch, ref)
        kyc = self.kyc.fetch(ref)
        name = str(kyc.get("name") or "")
        screening = (
            self.screening.screen_name(application.tenant_id, name)
            if self.screening is not None and name
            else {"decision": "no-hit", "hits": 0, "screened": bool(name)}
        )
        return Answers(bureau.result(), kyc, screening, account.result())

    def _checks(self, application: Application) -> Application:
        answers = self._ask(application)
        reasons = []
        if answers.kyc.get("status") != "verified":
            reasons.append(K_IDENTITY)
        if answers.screening.get("decision") != "no-hit":
            reasons.append(K_SCREENING)
        if answers.account.get("status") != "verified":
            reasons.append(K_ACCOUNT)
        at = isoformat(self.service.clock.now())

        def work(conn: Any) -> tuple[Application, list[EntryDraft]]:
            self._still(application)
            checks = self._seal_raw(conn, application, answers)
            compliance = {
                "passed": not reasons,
                "kyc": checks["kyc"],
                "screening": checks["screening"],
                "account": checks["account"],
            }
            if reasons:
                moved = application.move_to(
                    ApplicationStatus.DECLINED,
                    at,
                    checks=checks,
                    underwriting={
                        "approved": False,
                        "reasons": [{"code": c, "text": t} for c, t in reasons],
                    },
                )
                events = [
                    self._event(moved, model.COMPLIANCE_CHECKED, compliance),
                    self._processed(moved),
                ]
            else:
                moved = application.move_to(
                    ApplicationStatus.CHECKED,
                    at,
                    checks=checks,
                    bureau=answers.report.features(),
                )
                events = [self._event(moved, model.COMPLIANCE_CHECKED, compliance)]
            return moved, [self.service._draft(moved, moved.status.value, events)]

        moved, _ = self.service.ledger.transact(work)
        return moved

    def _seal_raw(self, conn: Any, application: Application, answers: Answers) -> dict[str, Any]:
        """Raw provider answers into the vault (by reference); features and digests out."""
        raw = {"bureau": answers.report.raw or answers.report.features(), "kyc": answers.kyc}
        refs: dict[str, Any] = {name: {"digest": digest(data)} for name, data in raw.items()}
        if self.vault is not None:
            for name, data in raw.items():
                record = self.vault.seal_in(
                    conn, application.tenant_id, application.applicant_ref, "kyc", data
                )
                refs[name] = {"record": record.urn, "digest": record.digest}
        kyc = answers.kyc
        return {
            "kyc": {
                "status": kyc.get("status"),
                "level": kyc.get("level"),
                "reference": kyc.get("reference"),
                **refs["kyc"],
            },
            "screening": {
                "decision": answers.screening.get("decision"),
                "hits": answers.screening.get("hits", 0),
            },
            "account": {"status": answers.account.get("status"), "digest": digest(answers.account)},
            "bureau": refs["bureau"],
        }

    def _assess(self, application: Application) -> Application:
        """Affordability, then the underwriting decision sealed by the decision service
        (pack `credit-underwriting` with the risk module's score); the application records
        the decision's id, verdict and the reasons its explanation names."""
        product = CATALOG[application.product_id]
        features = dict(application.bureau or {})
        now = self.service.clock.now()
        # The new payment counts in affordability at the best grade's rate it could get.
        probe = level_payment(
            ScheduleTerms(
                application.amount,
                application.currency,
                next(iter(product.rates.values())),
                application.payments,
                product.frequency,
                product.day_count,
                now.date(),
            )
        )
        dti = debt_to_income(
            application.monthly_income,
            application.monthly_debt,
            int(features["monthly_debt"]),
            probe,
        )
        request = decision_request(application, product, dti)
        at = isoformat(now)

        def assessed(sealed: Mapping[str, Any]) -> tuple[Application, EntryDraft]:
            verdict = read_decision(sealed, dti)
            moved = application.move_to(
                ApplicationStatus.ASSESSED, at, underwriting=verdict.as_dict()
            )
            event = self._event(
                moved,
                model.RISK_ASSESSED,
                {
                    "points": verdict.points,
                    "grade": verdict.grade,
                    "dti": str(verdict.dti),
                    "bureau_digest": features.get("raw_digest"),
                    "decision_id": verdict.decision["decision_id"],
                    "decision": verdict.decision["verdict"],
                    "risk_score": verdict.risk["score"],
                },
            )
            return moved, self.service._draft(moved, moved.status.value, [event])

        done: list[Application] = []
        offers: dict[tuple[bool, str | None], dict[str, Any] | None] = {}

        def prepare(record: Mapping[str, Any]) -> None:
            # Outside the writer: the offer the verdict as evaluated earns (a schedule and
            # an APR to solve), so the writer only takes it.
            verdict = read_decision(record, dti)
            offers[verdict.approved, verdict.grade] = self._offer(application, verdict.grade)

        def with_decision(conn: Any, sealed: Mapping[str, Any]) -> list[EntryDraft]:
            # Inside the decision's transaction: the step is sealed with it, or neither; and
            # the decide step's offer (or decline) too, which follows from the verdict alone
            # (one transaction fewer; `assessed` stays in the history, its event sealed).
            self._still(application)
            moved, draft = assessed(sealed)
            verdict = moved.underwriting or {}
            key = (bool(verdict.get("approved")), verdict.get("grade"))
            decided, events = self._decided(moved, offers.get(key, _UNSET))
            done[:] = [decided]
            return [draft, self.service._draft(decided, decided.status.value, events)]

        sealed = self.decisions.decide(
            **request, receipt=False, companions=with_decision, prepare=prepare
        )
        if done and not sealed.get("replayed"):
            return done[0]
        # The decision was sealed by an earlier run of this step (a crash before the step's
        # own seal, or a racing worker): seal the step on the decision recorded then.
        moved, draft = assessed(sealed)

        def work(conn: Any) -> tuple[None, list[EntryDraft]]:
            self._still(application)
            return None, [draft]

        self.service.ledger.transact(work)
        return moved

    def _decide(self, application: Application) -> Application:
        """The offer or the decline of an application assessed in a transaction of its own
        (its decision sealed by an earlier run of `_assess`)."""
        moved, events = self._decided(application)
        return self._seal(application, moved, events)

    def _decided(
        self, application: Application, offer: dict[str, Any] | _Unset | None = _UNSET
    ) -> tuple[Application, list[EventEnvelope]]:
        """An assessed application offered (at its grade's rate) or declined, and its event.
        `offer`: the one its verdict earns, made beforehand (`_offer`), or _UNSET."""
        verdict = application.underwriting or {}
        if isinstance(offer, _Unset):
            approved = bool(verdict.get("approved"))
            offer = self._offer(application, verdict.get("grade") if approved else None)
        at = isoformat(self.service.clock.now())
        if offer is not None:
            moved = application.move_to(ApplicationStatus.OFFERED, at, offer=offer)
        else:
            moved = application.move_to(ApplicationStatus.DECLINED, at)
        return moved, [self._processed(moved)]

    def _offer(self, application: Application, grade: str | None) -> dict[str, Any] | None:
        """The offer an approved grade earns; None (a decline) without one."""
        if not grade:
            return None
        product = CATALOG[application.product_id]
        if product.kind == "credit_line":
            return make_line_offer(
                product,
                grade,
                amount=application.amount,
                currency=application.currency,
                now=self.service.clock.now(),
            )
        return make_offer(
            product,
            grade,
            amount=application.amount,
            currency=application.currency,
            payments=application.payments,
            now=self.service.clock.now(),
        )

    # -- recording -----------------------------------------------------------------------

    def _seal(
        self, before: Application, moved: Application, events: list[EventEnvelope]
    ) -> Application:
        return self.service._seal(before, moved, events)

    def _still(self, application: Application) -> None:
        """Inside the write transaction: nobody sealed this step, or withdrew the
        application, meanwhile (else Conflict, and `run` records nothing)."""
        self.service._still(application)

    def _processed(self, decided: Application) -> EventEnvelope:
        verdict = decided.underwriting or {}
        return self._event(
            decided,
            model.APPLICATION_PROCESSED,
            {
                "outcome": decided.status.value,
                "reasons": [r["code"] for r in verdict.get("reasons", [])],
                "reason_texts": [r["text"] for r in verdict.get("reasons", [])],
                "decision_id": verdict.get("decision_id"),
                "apr": (decided.offer or {}).get("disclosure", {}).get("annual_percentage_rate"),
            },
        )

    def _event(
        self, application: Application, event_type: str, extra: Mapping[str, Any]
    ) -> EventEnvelope:
        return self.service._event(application, event_type, extra)
