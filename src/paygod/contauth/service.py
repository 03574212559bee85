"""The continuous-authentication service: a session's signals move its trust.

`record` validates a batch (signals.py), scores it with the principal's sealed model
(registry.py, scoring.py) and, in one ledger transaction, keeps the derived features
(retention class, never raw keystrokes), updates the session's trust and seals a
`contauth.assessment` (trust, reasons, model version, the features' digest). Crossing the
tenant's thresholds seals a `contauth.step_up_demanded` or `contauth.session_ended` entry
with its outbox event in the same transaction. The API asks `requires_step_up` before a
sensitive action and `stepped_up` after a TOTP code passed; identity asks `check` on every
use of a session token, so an ended session is refused everywhere at once.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from paygod.canonical import digest
from paygod.contauth import signals
from paygod.contauth.errors import ContauthCode
from paygod.contauth.model import (
    ASSESSMENT_KIND,
    RETENTION_CLASS,
    RETENTION_DAYS,
    SESSION_ENDED,
    STEP_UP_DEMANDED,
    STEP_UP_PASSED,
    THRESHOLDS_KIND,
    FeatureRecord,
    SessionEnded,
    SessionState,
    SessionTrust,
    Thresholds,
)
from paygod.contauth.ports import ContauthStore
from paygod.contauth.registry import ModelRegistry
from paygod.contauth.scoring import Outcome, apply
from paygod.decisions.measurements import Measurement
from paygod.kernel.clock import Clock, isoformat
from paygod.kernel.errors import FieldError, Forbidden, NotFound, Unauthorized
from paygod.kernel.events import EventEnvelope
from paygod.kernel.record_ids import new_id
from paygod.ledger import EntryDraft, LedgerService


def session_subject(session_id: str) -> str:
    return f"urn:paygod:session:{session_id}"


def thresholds_subject(tenant_id: str) -> str:
    return f"urn:paygod:contauth-thresholds:{tenant_id}"


class ContauthService:
    def __init__(self, ledger: LedgerService, store: ContauthStore, clock: Clock) -> None:
        self.ledger, self.store, self.clock = ledger, store, clock
        self.registry = ModelRegistry(ledger, store, clock)
        # One batch at a time per process: a session's trust is read, moved and written back.
        self._lock = threading.Lock()

    # -- sessions ------------------------------------------------------------------------
    def open_session(
        self, tenant_id: str, principal_id: str, session_id: str, expires_at: datetime
    ) -> None:
        self.store.open(SessionTrust(session_id, tenant_id, principal_id, expires_at))

    def check(self, session_id: str) -> None:
        """Raise for a session continuous authentication ended (identity calls this)."""
        found = self.store.get(session_id)
        if found is not None and found.state is SessionState.ENDED:
            raise Unauthorized(
                "this session was ended by continuous authentication: sign in again",
                code=ContauthCode.SESSION_ENDED,
            )

    def requires_step_up(self, session_id: str) -> bool:
        found = self.store.get(session_id)
        return found is not None and found.state is SessionState.STEP_UP_REQUIRED

    def stepped_up(self, session_id: str, actor: str) -> None:
        """A fresh TOTP code was given: the demand is met and trust starts afresh."""
        with self._lock:
            found = self.store.get(session_id)
            if found is None or found.state is not SessionState.STEP_UP_REQUIRED:
                return
            after = found.moved(
                trust=1.0,
                state=SessionState.ACTIVE,
                reasons=("step-up passed",),
                updated_at=self.clock.now(),
            )
            draft = self._transition(STEP_UP_PASSED, found, after, {"passed_by": actor})

            def work(conn: Any) -> tuple[None, list[EntryDraft]]:
                self.store.save(conn, after, expected=found)
                return None, [draft]

            self.ledger.transact(work)

    def _owned(self, tenant_id: str, principal_id: str, session_id: str) -> SessionTrust:
        found = self.store.get(session_id)
        if found is None or found.tenant_id != tenant_id:
            # Another tenant's session is as unknown as none: nothing about it leaks.
            raise NotFound(
                "no such session; nothing was recorded",
                errors=[FieldError("/session_id", "names no session of the caller's tenant")],
            )
        if found.principal_id != principal_id:
            raise Forbidden(
                "signals may only be sent for the caller's own session; nothing was recorded",
                code=ContauthCode.SESSION_NOT_YOURS,
                errors=[FieldError("/session_id", "belongs to another principal")],
            )
        if found.state is SessionState.ENDED:
            raise SessionEnded("the session was ended; its signals are no longer accepted")
        if found.expires_at <= self.clock.now():
            raise SessionEnded("the session has expired; its signals are no longer accepted")
        return found

    # -- signals -------------------------------------------------------------------------
    def record(
        self, tenant_id: str, principal_id: str, session_id: str, body: Mapping[str, Any]
    ) -> dict[str, Any]:
        batch = signals.parse_batch(body, tenant_id)
        with self._lock:
            session = self._owned(tenant_id, principal_id, session_id)
            version, model = self.registry.active(tenant_id, session.principal_id)
            outcome = apply(
                session,
                batch,
                model if not isinstance(model, str) else None,
                self.thresholds(tenant_id),
                model_version=version,
                model_problem=model if isinstance(model, str) else None,
            )
            now = self.clock.now()
            after = outcome.after.moved(updated_at=now)
            records = self._records(session, batch, now)
            drafts = self._drafts(outcome, after, records)

            def work(conn: Any) -> tuple[None, list[EntryDraft]]:
                self.store.add_features(conn, records)
                self.store.save(conn, after, expected=session)
                return None, drafts

            _, entries = self.ledger.transact(work)
        return {
            **self._view(after, tenant_id),
            "scored_events": len(outcome.genuineness),
            "genuineness": list(outcome.genuineness),
            "seq": entries[-1].seq,
        }

    def _records(
        self, session: SessionTrust, batch: signals.Batch, now: datetime
    ) -> list[FeatureRecord]:
        until = now + timedelta(days=RETENTION_DAYS)
        kinds: list[tuple[str, Mapping[str, Any]]] = [("keystroke", k) for k in batch.keystrokes]
        kinds += [("pointer", p) for p in batch.pointer]
        if batch.device is not None:
            kinds.append(("device", {"fingerprint": batch.device, **batch.device_attributes}))
        return [
            FeatureRecord(
                new_id(),
                session.session_id,
                session.tenant_id,
                session.principal_id,
                kind,
                dict(features),
                now,
                until,
            )
            for kind, features in kinds
        ]

    def _drafts(
        self, outcome: Outcome, after: SessionTrust, records: Sequence[FeatureRecord]
    ) -> list[EntryDraft]:
        payload = {
            "session_id": after.session_id,
            "principal_id": after.principal_id,
            "trust_before": outcome.before.trust,
            "trust": after.trust,
            "state": after.state.value,
            "events": after.events,
            "genuineness": list(outcome.genuineness),
            "reasons": list(after.reasons),
            "model_version": after.model_version,
            # The features are personal data under a retention class: sealed as a digest.
            "features_digest": digest([dict(r.features) for r in records]),
            "retention_class": RETENTION_CLASS,
        }
        drafts = [
            EntryDraft(
                ASSESSMENT_KIND,
                session_subject(after.session_id),
                payload,
                tenant_id=after.tenant_id,
            )
        ]
        if outcome.ended:
            drafts.append(self._transition(SESSION_ENDED, outcome.before, after, {}))
        elif outcome.demanded_step_up:
            drafts.append(self._transition(STEP_UP_DEMANDED, outcome.before, after, {}))
        return drafts

    def _transition(
        self, kind: str, before: SessionTrust, after: SessionTrust, extra: Mapping[str, Any]
    ) -> EntryDraft:
        now = self.clock.now()
        payload = {
            "session_id": after.session_id,
            "principal_id": after.principal_id,
            "trust": after.trust,
            "state_before": before.state.value,
            "state": after.state.value,
            "reasons": list(after.reasons),
            "thresholds": self.thresholds(after.tenant_id).as_dict(),
            **extra,
        }
        event = EventEnvelope(
            kind,
            after.session_id,
            "session",
            after.tenant_id,
            payload,
            now,
            now,
            correlation_id=after.session_id,
        )
        subject = session_subject(after.session_id)
        return EntryDraft(kind, subject, payload, tenant_id=after.tenant_id, events=(event,))

    # -- reads ---------------------------------------------------------------------------
    def trust(
        self, tenant_id: str | None, session_id: str, as_of: datetime | None = None
    ) -> dict[str, Any]:
        found = self.store.get(session_id)
        if found is None or tenant_id not in (None, found.tenant_id):
            raise NotFound("no such session")
        if as_of is None:
            return self._view(found, found.tenant_id)
        kinds = (ASSESSMENT_KIND, STEP_UP_PASSED, STEP_UP_DEMANDED, SESSION_ENDED)
        past = [
            e
            for e in self.ledger.history(session_subject(session_id), found.tenant_id)
            if e.kind in kinds and e.recorded_at <= as_of
        ]
        opened = found.moved(trust=1.0, state=SessionState.ACTIVE, events=0, reasons=())
        if not past:
            return {**self._view(opened, found.tenant_id), "as_of": isoformat(as_of)}
        last = past[-1].payload
        view = self._view(opened, found.tenant_id)
        view.update(
            trust=last["trust"],
            state=last["state"],
            reasons=last["reasons"],
            events=last.get("events", view["events"]),
            seq=past[-1].seq,
        )
        return {**view, "as_of": isoformat(as_of)}

    def _view(self, session: SessionTrust, tenant_id: str) -> dict[str, Any]:
        return {**session.as_dict(), "thresholds": self.thresholds(tenant_id).as_dict()}

    # -- thresholds ----------------------------------------------------------------------
    def thresholds(self, tenant_id: str) -> Thresholds:
        found = self.ledger.history(thresholds_subject(tenant_id), tenant_id)
        sealed = [e for e in found if e.kind == THRESHOLDS_KIND]
        if not sealed:
            return Thresholds()
        last = sealed[-1].payload
        return Thresholds(float(last["step_up"]), float(last["terminate"]))

    def set_thresholds(
        self, tenant_id: str, thresholds: Thresholds, *, actor: str | None
    ) -> dict[str, Any]:
        thresholds.checked()
        now = self.clock.now()
        payload = {
            **thresholds.as_dict(),
            "tenant_id": tenant_id,
            "set_by": actor,
            "set_at": isoformat(now),
        }
        subject = thresholds_subject(tenant_id)
        event = EventEnvelope(
            "contauth.thresholds_set", subject, "contauth_thresholds", tenant_id, payload, now, now
        )
        draft = EntryDraft(THRESHOLDS_KIND, subject, payload, tenant_id=tenant_id, events=(event,))
        entry = self.ledger.append(draft)
        return {**payload, "seq": entry.seq}

    # -- packs ---------------------------------------------------------------------------
    def measurement_source(
        self, tenant_id: str, subject: str, packs: Sequence[Any]
    ) -> list[Measurement]:
        """`session.trust` and `session.state` of the decision subject's newest live session
        (the subject is a principal id, bare or as urn:paygod:principal:<id>), measured only
        when a selected pack reads them. No live session: both null."""
        if not any(b"measure.session" in getattr(p, "source", b"") for p in packs):
            return []
        principal_id = subject.removeprefix("urn:paygod:principal:")
        now = self.clock.now()
        live = [s for s in self.store.sessions(tenant_id, principal_id) if s.expires_at > now]
        trust, state = (live[0].trust, live[0].state.value) if live else (None, None)
        return [
            Measurement("session.trust", trust, "score", "paygod:contauth"),
            Measurement("session.state", state, "state", "paygod:contauth"),
        ]

    def purge(self) -> int:
        """Delete derived features past their retention (their digests stay sealed)."""
        return self.store.purge(self.clock.now())
