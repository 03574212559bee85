"""The risk service: scores decisions, keeps the windows, trains and registers models.

Per decision (`assess`): the observation is read from the request, its features are read
from the `WindowBook`, and the active model scores it. The result is sealed with the
decision as a `risk.assessment` entry (observation, features, score, model version,
contributions); a score at or above the alert threshold carries a `risk.alert` event for
the outbox. Only after the decision commits does the observation join the windows
(`committed`); `rebuild` refills them from the sealed `risk.assessment` entries.

A registered model is loaded once, its artefact checked against the digest sealed in its
`risk.model` entry; an artefact that does not match, does not load or does not score makes
every assessment `unavailable` (fail closed: review), never a silent allow.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from paygod.decisions.ports import DuplicateKey
from paygod.kernel.clock import Clock, isoformat
from paygod.kernel.errors import Conflict, FieldError, NotFound
from paygod.kernel.events import EventEnvelope
from paygod.kernel.record_ids import new_id
from paygod.ledger import EntryDraft, LedgerService
from paygod.risk import observe
from paygod.risk.compiled import CompiledModels, compile_boosting, compile_isolation
from paygod.risk.features import FEATURES, Observation, WindowBook
from paygod.risk.model import (
    ALERT_THRESHOLD,
    RULES,
    Assessment,
    ModelIntegrityError,
    StoredModel,
)
from paygod.risk.ports import ModelStore
from paygod.risk.scoring import assess, unavailable

ASSESSMENT_KIND = "risk.assessment"
MODEL_KIND = "risk.model"
ALERT_EVENT = "risk.alert"
# The only types a model artefact may hold beyond skops' defaults: the two estimators' trees.
TRUSTED_TYPES = (
    "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
    "sklearn.tree._tree.Tree",
)
RECHECK_SECONDS = 5.0


def model_subject(version: int) -> str:
    return f"urn:paygod:risk-model:{version}"


@dataclass(frozen=True)
class RiskPart:
    """What the decision service seals for risk: measurements, the entry, the alert."""

    observation: Observation
    assessment: Assessment

    def measurements(self) -> list[tuple[str, Any, str]]:
        a = self.assessment
        found: list[tuple[str, Any, str]] = [
            (name, a.features[name], "feature") for name in FEATURES if name != "amount_minor"
        ]
        found += [
            ("risk_score", a.score, "score"),
            ("risk_band", a.band, "band"),
            ("risk_reasons", list(a.reasons), "reasons"),
            ("risk_model_version", a.model_version, "version"),
        ]
        return found


def _digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


class RiskService:
    def __init__(self, ledger: LedgerService, store: ModelStore, clock: Clock, tenant: str) -> None:
        self.ledger = ledger
        self.store = store
        self.clock = clock
        self.tenant = tenant
        self.book = WindowBook()
        self._lock = threading.Lock()
        self._loaded: tuple[int, CompiledModels | str] | None = None
        self._checked = 0.0
        self._rebuilt = False

    # -- per decision --------------------------------------------------------------------

    def problems(self, context: Mapping[str, Any]) -> list[FieldError]:
        return observe.problems(context)

    def assess_request(
        self,
        *,
        tenant_id: str,
        subject: str,
        input_doc: Mapping[str, Any],
        context: Mapping[str, Any],
        now: datetime,
    ) -> RiskPart | None:
        obs = observe.observation(tenant_id, subject, input_doc, context, now)
        if obs is None:
            return None
        self._ensure_rebuilt()
        with self._lock:
            found = self.book.features(obs)
        return RiskPart(obs, self.score(found))

    def score(self, features: Mapping[str, float]) -> Assessment:
        version, models = self.active()
        if isinstance(models, str):
            return unavailable(features, version, models)
        try:
            return assess(features, models, version)
        except Exception as exc:  # a model that cannot score fails closed, never open
            return unavailable(features, version, f"model {version} failed to score: {exc}")

    def drafts(
        self,
        part: RiskPart,
        *,
        decision_id: str,
        idempotency_key: str | None,
        requested_by: str | None,
    ) -> list[EntryDraft]:
        a, obs = part.assessment, part.observation
        now = self.clock.now()
        # The features themselves are sealed once, as the decision's measurements.
        payload = {
            "decision_id": decision_id,
            "observation": obs.as_dict(),
            **{k: v for k, v in a.as_dict().items() if k != "features"},
        }
        events: tuple[EventEnvelope, ...] = ()
        if a.score is not None and a.score >= ALERT_THRESHOLD:
            events = (self._alert(part, decision_id, idempotency_key, requested_by, now),)
            payload["alert_id"] = events[0].aggregate_id
        return [
            EntryDraft(
                ASSESSMENT_KIND, obs.subject, payload, tenant_id=obs.tenant_id, events=events
            )
        ]

    def _alert(
        self,
        part: RiskPart,
        decision_id: str,
        idempotency_key: str | None,
        requested_by: str | None,
        now: datetime,
    ) -> EventEnvelope:
        a, obs = part.assessment, part.observation
        rules = {r.name: r for r in RULES}
        first = rules[a.rules[0]] if a.rules else None
        alert_id = new_id()
        payment_id = (
            idempotency_key.removeprefix("payment:")
            if idempotency_key and idempotency_key.startswith("payment:")
            else None
        )
        payload = {
            "alert_id": alert_id,
            "alert_type": first.alert_type if first else "fraud_score",
            "risk_score": a.score,
            "threshold": ALERT_THRESHOLD,
            "rule": first.name if first else None,
            "model": f"risk-model:{a.model_version}" if a.model_version is not None else None,
            "subject": obs.subject,
            "counterparty": obs.counterparty,
            "payment_id": payment_id,
            "decision_id": decision_id,
            "correlation_id": idempotency_key or decision_id,
            "raised_by": requested_by,
            "reasons": list(a.reasons),
            "source": "risk",
        }
        return EventEnvelope(
            event_type=ALERT_EVENT,
            aggregate_id=alert_id,
            aggregate_type="risk_alert",
            tenant_id=obs.tenant_id,
            payload=payload,
            occurred_at=now,
            recorded_at=now,
            correlation_id=idempotency_key or decision_id,
            causation_id=decision_id,
        )

    def committed(self, part: RiskPart) -> None:
        with self._lock:
            self.book.add(part.observation)

    def label_fraud(self, tenant_id: str, counterparty: str, at: float) -> None:
        """A case closed as confirmed fraud teaches the counterparty windows."""
        with self._lock:
            self.book.label_fraud(tenant_id, counterparty, at)

    def _ensure_rebuilt(self) -> None:
        if not self._rebuilt:
            self.rebuild()

    def rebuild(self) -> int:
        """Refill the windows from the sealed `risk.assessment` entries (start-up, repair)."""
        book = WindowBook()
        count = 0
        for entry in self.ledger.iter_entries():
            if entry.kind == ASSESSMENT_KIND and isinstance(entry.payload.get("observation"), dict):
                book.add(Observation.from_dict(entry.payload["observation"]))
                count += 1
        with self._lock:
            self.book, self._rebuilt = book, True
        return count

    # -- the registry --------------------------------------------------------------------

    def active(self) -> tuple[int | None, CompiledModels | str | None]:
        """(version, compiled models | why they are unavailable); (None, None): no model."""
        now = time.monotonic()
        loaded = self._loaded
        if now - self._checked < RECHECK_SECONDS:
            return loaded if loaded is not None else (None, None)
        latest = self.store.latest()
        self._checked = now
        if latest is None:
            self._loaded = None
            return None, None
        if loaded is None or loaded[0] != latest.version or isinstance(loaded[1], str):
            loaded = (latest.version, self._load_or_reason(latest))
            self._loaded = loaded
        return loaded

    def _load_or_reason(self, stored: StoredModel) -> CompiledModels | str:
        try:
            return self.load(stored)
        except ModelIntegrityError as exc:
            return exc.detail

    def load(self, stored: StoredModel) -> CompiledModels:
        """Verify the artefact against the digest sealed in the ledger, then compile it."""
        sealed = self._sealed(stored.version)
        if sealed is None:
            raise ModelIntegrityError(f"model {stored.version} has no sealed registry entry")
        expected = str(sealed.payload.get("artefact_digest"))
        actual = _digest(stored.artefact)
        if actual != expected or stored.artefact_digest != expected:
            raise ModelIntegrityError(
                f"model {stored.version} artefact digest {actual} does not match the sealed "
                f"{expected}; refusing to load it"
            )
        import skops.io as sio

        try:
            untrusted = set(sio.get_untrusted_types(data=stored.artefact))
            if not untrusted <= set(TRUSTED_TYPES):
                raise ModelIntegrityError(
                    f"model {stored.version} artefact holds untrusted types {sorted(untrusted)}"
                )
            models = sio.loads(stored.artefact, trusted=list(TRUSTED_TYPES))
            fraud, baseline = compile_boosting(models["fraud"])
            anomaly, normaliser = compile_isolation(models["anomaly"])
        except ModelIntegrityError:
            raise
        except Exception as exc:
            raise ModelIntegrityError(f"model {stored.version} does not load: {exc}") from None
        features = tuple(sealed.payload.get("features") or ())
        if features != FEATURES:
            raise ModelIntegrityError(
                f"model {stored.version} was trained on other features than this kernel computes"
            )
        return CompiledModels(features, fraud, baseline, anomaly, normaliser)

    def register(
        self, artefact: bytes, meta: Mapping[str, Any], *, actor: str | None = None
    ) -> dict[str, Any]:
        """Seal a new model version (registry entry + artefact, one transaction)."""
        versions = self.store.versions()
        version = (max(versions) + 1) if versions else 1
        digest = _digest(artefact)
        payload = {
            "version": version,
            "artefact_digest": digest,
            "registered_at": isoformat(self.clock.now()),
            "registered_by": actor,
            **meta,
            "features": list(FEATURES),
        }
        draft = EntryDraft(MODEL_KIND, model_subject(version), payload, tenant_id=self.tenant)
        row = StoredModel(version, digest, artefact, payload)

        def work(conn: Any) -> tuple[None, list[EntryDraft]]:
            self.store.put(conn, row)
            return None, [draft]

        try:
            _, entries = self.ledger.transact(work)
        except DuplicateKey:
            raise Conflict(f"model version {version} was registered concurrently") from None
        self._checked = 0.0
        return {**payload, "seq": entries[-1].seq}

    def _sealed(self, version: int) -> Any:
        found = [e for e in self.ledger.history(model_subject(version)) if e.kind == MODEL_KIND]
        return found[-1] if found else None

    def models(self) -> list[dict[str, Any]]:
        return [self.model(v) for v in sorted(self.store.versions(), reverse=True)]

    def model(self, version: int) -> dict[str, Any]:
        stored = self.store.get(version)
        if stored is None:
            raise NotFound(f"no risk model version {version}")
        latest = self.store.latest()
        sealed = self._sealed(version)
        return {
            **dict(stored.meta),
            "seq": sealed.seq if sealed is not None else None,
            "active": latest is not None and latest.version == version,
        }
