"""The case service: alerts open (or join) cases; officers assign, comment and close them.

Each step is checked against the case's transition table, recorded as a ledger entry under
`case:<id>` and folded into the stored state in the same transaction. The maker cannot
close a case they raised (maker-checker); reading a case as of a past time folds its
ledger entries up to then.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from paygod.cases.model import Case, CaseStep, Disposition
from paygod.cases.ports import CaseStore
from paygod.decisions.evidence import find_raw_pii
from paygod.kernel.clock import Clock, isoformat, parse_instant
from paygod.kernel.errors import FieldError, InvalidInput, NotFound, SamePrincipal
from paygod.kernel.events import EventEnvelope
from paygod.kernel.identifiers import subject_problem
from paygod.kernel.record_ids import new_id
from paygod.ledger import EntryDraft, LedgerService

ALERT_FIELDS = ("alert_id", "alert_type", "subject")
MAX_TEXT = 2000


def case_subject(case_id: str) -> str:
    return f"case:{case_id}"


def alert_problems(alert: Any) -> list[FieldError]:
    """What makes an alert event unusable (a `risk.alert`-shaped payload)."""
    if not isinstance(alert, Mapping):
        return [FieldError("/payload", "expected an object")]
    found = [
        FieldError(f"/payload/{name}", "required, a non-empty string")
        for name in ALERT_FIELDS
        if not isinstance(alert.get(name), str) or not alert.get(name)
    ]
    score = alert.get("risk_score")
    if score is not None and (type(score) not in (int, float) or not 0 <= score <= 1):
        found.append(FieldError("/payload/risk_score", "must be a number in [0, 1]"))
    return found


def _text_problems(text: Any, pointer: str) -> list[FieldError]:
    if not isinstance(text, str) or not text.strip() or len(text) > MAX_TEXT:
        return [FieldError(pointer, f"must be 1-{MAX_TEXT} characters")]
    return find_raw_pii(text, pointer)


class CaseService:
    def __init__(self, ledger: LedgerService, store: CaseStore, clock: Clock) -> None:
        self.ledger = ledger
        self.store = store
        self.clock = clock
        self._lock = threading.Lock()
        # Told of every case closed as confirmed fraud (risk learns the counterparty).
        self.on_confirmed: list[Callable[[Case], None]] = []

    # -- opening -------------------------------------------------------------------------

    def open_from_alert(self, tenant_id: str, alert: Mapping[str, Any]) -> Case:
        """Open a case for `alert`, or add it to the open case of the same subject and
        alert type; a redelivered alert (same alert_id) changes nothing."""
        errors = alert_problems(alert)
        if errors:
            raise InvalidInput("the alert cannot open a case", errors=errors)
        alert_doc = dict(alert)
        with self._lock:
            linked = self.store.case_of_alert(str(alert["alert_id"]))
            if linked is not None:
                return self._get(linked, None)
            existing = self.store.open_case(
                tenant_id, str(alert["subject"]), str(alert["alert_type"])
            )
            if existing is not None:
                return self._step(
                    existing,
                    CaseStep.ALERT,
                    {"alert": alert_doc, "actor": alert.get("raised_by")},
                    alert_id=alert["alert_id"],
                )
            return self._open(
                tenant_id,
                str(alert["subject"]),
                str(alert["alert_type"]),
                alert.get("raised_by"),
                alert_doc,
            )

    def open_manual(
        self, tenant_id: str, *, subject: Any, alert_type: Any, note: Any, actor: str
    ) -> Case:
        errors: list[FieldError] = []
        if not isinstance(subject, str):
            errors.append(FieldError("/subject", "expected a string"))
        elif problem := subject_problem(subject):
            errors.append(FieldError("/subject", problem))
        if not isinstance(alert_type, str) or not alert_type or subject_problem(alert_type):
            errors.append(FieldError("/alert_type", "expected a non-empty identifier"))
        errors.extend(_text_problems(note, "/note"))
        if errors:
            raise InvalidInput("invalid case", errors=errors)
        alert = {
            "alert_id": new_id(),
            "alert_type": alert_type,
            "subject": subject,
            "raised_by": actor,
            "source": "manual",
            "note": note,
        }
        with self._lock:
            return self._open(tenant_id, subject, alert_type, actor, alert)

    def _open(
        self, tenant_id: str, subject: str, alert_type: str, raised_by: Any, alert: dict[str, Any]
    ) -> Case:
        case_id = new_id()
        data = {
            "case_id": case_id,
            "tenant_id": tenant_id,
            "subject": subject,
            "alert_type": alert_type,
            "raised_by": raised_by,
            "alert": alert,
        }
        now = self.clock.now()
        at = isoformat(now)
        data["at"] = at  # the case's own time: what `as_of` reads compare with
        case = Case.opened(data, at, None)
        event = self._event("case.opened", case, now)
        draft = EntryDraft(
            CaseStep.OPENED.value, case_subject(case_id), data, tenant_id=tenant_id, events=(event,)
        )

        def work(conn: Any) -> tuple[None, list[EntryDraft]]:
            self.store.link_alert(conn, str(alert["alert_id"]), case_id)
            self.store.save(conn, case)
            return None, [draft]

        self.ledger.transact(work)
        return case

    # -- working a case ------------------------------------------------------------------

    def assign(self, case_id: str, *, assignee: Any, actor: str, tenant_id: str | None) -> Case:
        if not isinstance(assignee, str) or not assignee or subject_problem(assignee):
            raise InvalidInput(
                "invalid assignee", errors=[FieldError("/assignee", "expected a principal id")]
            )
        with self._lock:
            case = self._get(case_id, tenant_id)
            return self._step(case, CaseStep.ASSIGNED, {"assignee": assignee, "actor": actor})

    def comment(self, case_id: str, *, text: Any, actor: str, tenant_id: str | None) -> Case:
        errors = _text_problems(text, "/text")
        if errors:
            raise InvalidInput("invalid comment", errors=errors)
        with self._lock:
            case = self._get(case_id, tenant_id)
            return self._step(case, CaseStep.COMMENTED, {"text": text, "actor": actor})

    def close(
        self, case_id: str, *, disposition: Any, note: Any, actor: str, tenant_id: str | None
    ) -> Case:
        errors: list[FieldError] = []
        if disposition not in {d.value for d in Disposition}:
            allowed = ", ".join(d.value for d in Disposition)
            errors.append(FieldError("/disposition", f"must be one of {allowed}"))
        errors.extend(_text_problems(note, "/note"))
        if errors:
            raise InvalidInput("invalid case closure", errors=errors)
        with self._lock:
            case = self._get(case_id, tenant_id)
            case.check(CaseStep.CLOSED)
            if case.raised_by is not None and actor == case.raised_by:
                raise SamePrincipal(
                    "maker-checker: the principal who raised a case cannot close it"
                )
            closed = self._step(
                case, CaseStep.CLOSED, {"disposition": disposition, "note": note, "actor": actor}
            )
        if closed.disposition is Disposition.CONFIRMED_FRAUD:
            for listener in self.on_confirmed:
                listener(closed)
        return closed

    def _step(self, case: Case, step: CaseStep, data: dict[str, Any], alert_id: Any = None) -> Case:
        case.check(step)
        now = self.clock.now()
        at = isoformat(now)
        payload = {"case_id": case.case_id, **data, "at": at}
        after = case.apply(step, data, at, None)
        events = (self._event("case.closed", after, now),) if step is CaseStep.CLOSED else ()
        draft = EntryDraft(
            step.value, case_subject(case.case_id), payload, tenant_id=case.tenant_id, events=events
        )

        def work(conn: Any) -> tuple[None, list[EntryDraft]]:
            if alert_id is not None:
                self.store.link_alert(conn, str(alert_id), case.case_id)
            self.store.save(conn, after)
            return None, [draft]

        self.ledger.transact(work)
        return after

    def _event(self, event_type: str, case: Case, now: datetime) -> EventEnvelope:
        return EventEnvelope(
            event_type=event_type,
            aggregate_id=case.case_id,
            aggregate_type="case",
            tenant_id=case.tenant_id,
            payload={k: v for k, v in case.as_dict().items() if k not in ("history", "comments")},
            occurred_at=now,
            recorded_at=now,
        )

    # -- reading -------------------------------------------------------------------------

    def _get(self, case_id: str, tenant_id: str | None) -> Case:
        case = self.store.get(case_id)
        if case is None or (tenant_id is not None and case.tenant_id != tenant_id):
            raise NotFound(f"no case {case_id}")
        return case

    def get(self, case_id: str, tenant_id: str | None, as_of: str | None = None) -> Case:
        case = self._get(case_id, tenant_id)
        if as_of is None:
            return case
        try:
            until = parse_instant(as_of)
        except (TypeError, ValueError):
            raise InvalidInput(
                "invalid as_of", errors=[FieldError("/as_of", "expected an RFC 3339 instant")]
            ) from None
        return self.fold(case_id, until) or _not_yet(case_id)

    def fold(self, case_id: str, until: datetime | None = None) -> Case | None:
        """The case rebuilt from its ledger entries (up to `until`)."""
        found: Case | None = None
        for entry in self.ledger.history(case_subject(case_id)):
            data = dict(entry.payload)
            at = str(data.get("at") or entry.timestamp)
            if until is not None and parse_instant(at) > until:
                break
            if entry.kind == CaseStep.OPENED.value:
                found = Case.opened(data, at, entry.seq)
            elif found is not None:
                found = found.apply(CaseStep(entry.kind), data, at, entry.seq)
        return found

    def list(
        self, tenant_id: str | None, status: str | None = None, assignee: str | None = None
    ) -> list[Case]:
        if status is not None and status not in {"open", "assigned", "closed"}:
            raise InvalidInput(
                "invalid status", errors=[FieldError("/status", "must be open, assigned or closed")]
            )
        found = self.store.list(tenant_id, status)
        # "-" asks for the unassigned ones (an officer's "not yet taken" queue).
        if assignee == "-":
            return [c for c in found if c.assignee is None]
        return found if assignee is None else [c for c in found if c.assignee == assignee]


def _not_yet(case_id: str) -> Case:
    raise NotFound(f"case {case_id} did not exist yet at that time")
