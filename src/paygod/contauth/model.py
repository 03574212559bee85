"""Continuous-authentication values: thresholds, a session's trust, stored features."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from typing import Any, ClassVar

from paygod.contauth.errors import ContauthCode
from paygod.kernel.clock import isoformat
from paygod.kernel.errors import Conflict, FieldError, InvalidInput

# Trust moves as an exponentially weighted mean of each event's genuineness: one odd
# keystroke sample does not end a session, a run of them does within a few events.
SMOOTHING = 0.3
DEFAULT_STEP_UP = 0.5
DEFAULT_TERMINATE = 0.2
# Behavioural features are personal data: kept 30 days, then purged (`paygod contauth purge`).
RETENTION_CLASS = "behavioural-30d"
RETENTION_DAYS = 30

MODEL_KIND = "contauth.model"
THRESHOLDS_KIND = "contauth.thresholds"
ASSESSMENT_KIND = "contauth.assessment"
STEP_UP_DEMANDED = "contauth.step_up_demanded"
STEP_UP_PASSED = "contauth.step_up_passed"
SESSION_ENDED = "contauth.session_ended"


class SessionState(StrEnum):
    ACTIVE = "active"
    STEP_UP_REQUIRED = "step_up_required"
    ENDED = "ended"


class SessionEnded(Conflict):
    """The session was ended by continuous authentication (or its JWT expired)."""

    code: ClassVar[StrEnum] = ContauthCode.SESSION_ENDED
    title = "Session ended"


@dataclass(frozen=True)
class Thresholds:
    step_up: float = DEFAULT_STEP_UP
    terminate: float = DEFAULT_TERMINATE

    def problems(self) -> list[FieldError]:
        found = []
        for name, value in (("step_up", self.step_up), ("terminate", self.terminate)):
            if not 0.0 <= value <= 1.0 or value != value:
                found.append(FieldError(f"/{name}", "must be a number in [0, 1]"))
        if not found and self.terminate >= self.step_up:
            found.append(FieldError("/terminate", "must be below step_up"))
        return found

    def checked(self) -> Thresholds:
        errors = self.problems()
        if errors:
            raise InvalidInput("invalid trust thresholds", errors=errors)
        return self

    def as_dict(self) -> dict[str, float]:
        return {"step_up": self.step_up, "terminate": self.terminate}


@dataclass(frozen=True)
class SessionTrust:
    """A session's live trust: who, its state, its score and why."""

    session_id: str
    tenant_id: str
    principal_id: str
    expires_at: datetime
    trust: float = 1.0
    state: SessionState = SessionState.ACTIVE
    events: int = 0
    reasons: tuple[str, ...] = ()
    device: str | None = None  # the digest of the first fingerprint the session showed
    model_version: int | None = None
    updated_at: datetime | None = None

    def scored(self, genuineness: float) -> float:
        return round((1 - SMOOTHING) * self.trust + SMOOTHING * genuineness, 6)

    def moved(self, **changes: Any) -> SessionTrust:
        return replace(self, **changes)

    def as_dict(self) -> dict[str, Any]:
        return {
            "session_id": self.session_id,
            "tenant_id": self.tenant_id,
            "principal_id": self.principal_id,
            "trust": self.trust,
            "state": self.state.value,
            "events": self.events,
            "reasons": list(self.reasons),
            "model_version": self.model_version,
            "expires_at": isoformat(self.expires_at),
            "updated_at": isoformat(self.updated_at) if self.updated_at else None,
        }


@dataclass(frozen=True)
class FeatureRecord:
    """Derived features of one signal (never raw keystrokes), with their retention class."""

    feature_id: str
    session_id: str
    tenant_id: str
    principal_id: str
    kind: str  # keystroke | pointer | device
    features: Mapping[str, Any]
    recorded_at: datetime
    delete_after: datetime
    retention_class: str = RETENTION_CLASS


@dataclass(frozen=True)
class StoredModel:
    tenant_id: str
    principal_id: str
    version: int
    artefact_digest: str
    artefact: bytes
    meta: Mapping[str, Any] = field(default_factory=dict)
