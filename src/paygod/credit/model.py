"""A credit application and the transitions it may take (the aggregate guards them)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from enum import StrEnum
from typing import Any, ClassVar

from paygod.credit.errors import CreditCode, in_state
from paygod.kernel.errors import Conflict


class ApplicationStatus(StrEnum):
    SUBMITTED = "submitted"
    CHECKED = "checked"  # KYC, screening and the bureau answered; compliance passed
    ASSESSED = "assessed"  # affordability and the underwriting decision (sealed) recorded
    OFFERED = "offered"
    DECLINED = "declined"
    ACCEPTED = "accepted"
    EXPIRED = "expired"
    WITHDRAWN = "withdrawn"


TRANSITIONS: Mapping[ApplicationStatus, frozenset[ApplicationStatus]] = {
    # WITHDRAWN: the applicant (or the lender) ends the application before acceptance; the
    # saga's next step then finds it withdrawn and records nothing (saga.py `run`).
    ApplicationStatus.SUBMITTED: frozenset(
        {
            ApplicationStatus.CHECKED,
            ApplicationStatus.OFFERED,
            ApplicationStatus.DECLINED,
            ApplicationStatus.WITHDRAWN,
        }
    ),
    ApplicationStatus.CHECKED: frozenset(
        {ApplicationStatus.ASSESSED, ApplicationStatus.DECLINED, ApplicationStatus.WITHDRAWN}
    ),
    ApplicationStatus.ASSESSED: frozenset(
        {ApplicationStatus.OFFERED, ApplicationStatus.DECLINED, ApplicationStatus.WITHDRAWN}
    ),
    ApplicationStatus.OFFERED: frozenset(
        {ApplicationStatus.ACCEPTED, ApplicationStatus.EXPIRED, ApplicationStatus.WITHDRAWN}
    ),
    ApplicationStatus.DECLINED: frozenset(),
    ApplicationStatus.ACCEPTED: frozenset(),
    ApplicationStatus.EXPIRED: frozenset(),
    ApplicationStatus.WITHDRAWN: frozenset(),
}

# The event scheme (stable): PascalCase names of the credit saga, version 1.
APPLICATION_CREATED = "CreditApplicationCreated"
RISK_ASSESSED = "RiskAssessmentCompleted"
COMPLIANCE_CHECKED = "ComplianceCheckCompleted"
APPLICATION_PROCESSED = "ApplicationProcessed"
OFFER_ACCEPTED = "OfferAccepted"
APPLICATION_WITHDRAWN = "CreditApplicationWithdrawn"
OFFER_EXPIRED = "CreditOfferExpired"


class IllegalTransition(Conflict):
    code: ClassVar[StrEnum] = CreditCode.CREDIT_ILLEGAL_TRANSITION


@dataclass(frozen=True, slots=True)
class Application:
    application_id: str
    tenant_id: str
    applicant: str  # the principal who applied (scope `own` sees only these)
    applicant_ref: str  # urn: reference to the person; no raw personal data here
    product_id: str
    amount: int
    currency: str
    payments: int
    monthly_income: int
    monthly_debt: int
    status: ApplicationStatus
    created_at: str
    updated_at: str
    version: int = 1
    underwriting: dict[str, Any] | None = None
    checks: dict[str, Any] | None = None  # KYC, screening, account: outcomes and digests
    bureau: dict[str, Any] | None = None
    offer: dict[str, Any] | None = None
    contract: dict[str, Any] | None = None
    withdrawal: dict[str, Any] | None = None  # who withdrew it, when, from which state, why
    idempotency_key: str | None = None
    request_digest: str | None = None

    def move_to(self, status: ApplicationStatus, at: str, **changes: Any) -> Application:
        if status not in TRANSITIONS[self.status]:
            raise IllegalTransition(
                f"application {self.application_id} is {self.status.value}; "
                f"it cannot become {status.value}",
                code=in_state("application", self.status),
            )
        return replace(self, status=status, updated_at=at, version=self.version + 1, **changes)

    def as_dict(self) -> dict[str, Any]:
        # Shallow: the nested documents (offer, contract...) are plain JSON never mutated in
        # place; dataclasses.asdict deep-copied a whole schedule on every step.
        data = {name: getattr(self, name) for name in _FIELDS}
        data["status"] = self.status.value
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Application:
        return cls(**{**data, "status": ApplicationStatus(data["status"])})


_FIELDS = tuple(f.name for f in fields(Application))
