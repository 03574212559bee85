"""The action service: plan an action when a decision is requested, perform it when the
executor delivers its `action.perform` event, and say where it stands.

An action is sealed with its decision (the decision entry's `action` member). Only an
`allow` emits `action.perform`; a `flag` waits for an approval (which emits it), and a
deny or error never does. Each attempt is sealed before the side effect (`performing`)
and its outcome after (`done`, `attempt_failed`, `refused`, `dead`), as entries of
subject `action:<decision_id>` that name the decision and its seq. A `done` or final
entry makes every later delivery of the message a no-op, and a transactional handler
(the accounting transfer) commits its side effect with its `done` entry.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Mapping
from dataclasses import replace
from typing import Any
from urllib.parse import urlsplit

from paygod.actions.destinations import (
    MAX_TIMEOUT_SECONDS,
    MIN_SECRET_CHARS,
    AddressRefused,
    default_port,
    name_problem,
    resolve,
    url_errors,
)
from paygod.actions.errors import ActionCode
from paygod.actions.model import (
    ACTION_KIND,
    ATTEMPT_FAILED,
    AWAITING_APPROVAL,
    DEAD,
    DESTINATION_KIND,
    DONE,
    FINAL,
    PENDING,
    PERFORM_EVENT,
    PERFORMING,
    REFUSED,
    SKIPPED,
    ActionRefused,
    ActionRun,
    ActionSpec,
    ActionUnavailable,
    Destination,
    subject_of,
)
from paygod.actions.ports import DestinationStore
from paygod.actions.registry import ActionRegistry
from paygod.executor.breaker import BreakerBoard
from paygod.executor.model import OutboxMessage
from paygod.executor.worker import PermanentFailure
from paygod.kernel.clock import Clock, isoformat
from paygod.kernel.errors import Conflict, FieldError, InvalidInput, NotFound
from paygod.kernel.events import EventEnvelope
from paygod.kernel.logging import get_logger
from paygod.kernel.tracing import span, traceparent_of
from paygod.ledger import EntryDraft

log = get_logger("paygod.actions")
SPEC_KEYS = frozenset({"type", "destination", "payload"})


def spec_errors(raw: Any, pointer: str) -> list[FieldError]:
    """The shape every action shares; the handler checks the rest."""
    if not isinstance(raw, Mapping):
        return [FieldError(pointer, "expected an object {type, destination?, payload?}")]
    errors = [FieldError(f"{pointer}/{k}", "unknown member") for k in raw if k not in SPEC_KEYS]
    if not isinstance(raw.get("type"), str) or not raw.get("type"):
        errors.append(FieldError(f"{pointer}/type", "expected the action type, a string"))
    if "destination" in raw and not isinstance(raw["destination"], str):
        errors.append(FieldError(f"{pointer}/destination", "expected a destination name"))
    if "payload" in raw and not isinstance(raw["payload"], Mapping):
        errors.append(FieldError(f"{pointer}/payload", "expected an object"))
    return errors


class ActionService:
    def __init__(
        self,
        ledger: Any,
        clock: Clock,
        registry: ActionRegistry,
        destinations: DestinationStore,
        *,
        breakers: BreakerBoard | None = None,
        outbox: Any = None,
        max_attempts: int = 8,
    ) -> None:
        self.ledger = ledger
        self.clock = clock
        self.registry = registry
        self.destinations = destinations
        self.breakers = breakers or BreakerBoard(clock)
        self.outbox = outbox
        self.max_attempts = max_attempts
        # The decision service, set by the wiring (it is built before this one).
        self.decisions: Any = None

    # -- when a decision is requested (called by the decision service) ---------------

    def check(
        self, tenant_id: str, raw: Any, amount_minor: int | None, pointer: str = "/action"
    ) -> ActionSpec:
        """The request's action, or InvalidInput naming the offending member."""
        errors = spec_errors(raw, pointer)
        if errors:
            raise InvalidInput("invalid action", errors=errors)
        spec = ActionSpec.from_dict(raw)
        handler = self.registry.get(spec.type)
        if handler is None:
            known = ", ".join(self.registry.types())
            raise InvalidInput(
                "invalid action",
                errors=[FieldError(f"{pointer}/type", f"unknown action type; known: {known}")],
            )
        errors = handler.check(tenant_id, spec, pointer, amount_minor)
        if errors:
            raise InvalidInput("invalid action", errors=errors)
        return spec

    @staticmethod
    def rule_spec(raw: Mapping[str, Any]) -> ActionSpec:
        """A pack rule's action (its shape was checked when the pack loaded; its
        destination is checked when performed: a pack's mistake is a dead letter the
        operator sees, not a refusal of the caller's request)."""
        return ActionSpec.from_dict({**raw, "source": "rule"})

    def sealed_action(
        self, spec: ActionSpec, decision_id: str, verdict: str, tenant_id: str, trace: Any = None
    ) -> tuple[dict[str, Any], EventEnvelope | None]:
        """The decision's `action` member and, for an allow, the event that performs it."""
        event_id = f"act-{decision_id}"
        member = {**spec.as_dict(), "action_id": decision_id, "event_id": event_id}
        if verdict != "allow":
            return member, None
        event = self._perform_event(event_id, decision_id, spec, tenant_id)
        if trace is not None:
            event = replace(event, traceparent=traceparent_of(trace))
        return member, event

    def _perform_event(
        self, event_id: str, decision_id: str, spec: ActionSpec, tenant_id: str
    ) -> EventEnvelope:
        now = self.clock.now()
        return EventEnvelope(
            event_type=PERFORM_EVENT,
            aggregate_id=decision_id,
            aggregate_type="action",
            tenant_id=tenant_id,
            payload={"decision_id": decision_id, "action": spec.as_dict()},
            occurred_at=now,
            recorded_at=now,
            causation_id=decision_id,
            event_id=event_id,
        )

    # -- in the executor --------------------------------------------------------------

    def perform(self, message: OutboxMessage) -> None:
        """The `action.perform` handler: idempotent by decision id."""
        decision_id = message.aggregate_id
        with span("paygod.action.perform") as current:  # inside the executor's span
            current.set_attribute("paygod.decision_id", decision_id)
            decision = self._decision(decision_id)
            spec = ActionSpec.from_dict(decision["action"])
            current.set_attribute("paygod.action.type", spec.type)
            entries = self._entries(decision_id)
            if entries and entries[-1]["status"] in FINAL:
                return  # a redelivery after the outcome was sealed changes nothing
            if not self._allowed(decision, entries):
                raise PermanentFailure(f"decision {decision_id} does not allow its action")
            run = ActionRun(
                action_id=decision_id,
                decision_id=decision_id,
                decision_seq=decision.get("seq"),
                tenant_id=str(decision["tenant_id"]),
                subject=str(decision["subject"]),
                verdict=str(decision["decision"]),
                amount_minor=decision.get("amount_minor"),
                spec=spec,
                attempt=message.attempts,
            )
            self._run(run)

    def _run(self, run: ActionRun) -> None:
        handler = self.registry.get(run.spec.type)
        if handler is None:
            self._seal(run, REFUSED, error=f"no handler for action type {run.spec.type!r}")
            raise PermanentFailure(f"no handler for action type {run.spec.type!r}")
        perform_in = getattr(handler, "perform_in", None)
        if callable(perform_in):
            try:

                def work(conn: Any) -> tuple[Any, list[Any]]:
                    result, drafts = perform_in(conn, run)
                    return result, [*drafts, self._draft(run, DONE, result=dict(result))]

                self.ledger.transact(work)
            except ActionRefused as exc:
                self._seal(run, REFUSED, error=str(exc))
                raise PermanentFailure(str(exc)) from None
            return
        breaker = self.breakers.get(f"action:{run.spec.type}:{run.spec.destination or '-'}")
        if not breaker.allow():
            self._failed(run, ActionUnavailable("circuit open"))
        self._seal(run, PERFORMING)
        try:
            result = handler.perform(run)
        except ActionRefused as exc:
            breaker.record_success()  # the destination answered; the action was wrong
            self._seal(run, REFUSED, error=str(exc))
            raise PermanentFailure(str(exc)) from None
        except Exception as exc:
            breaker.record_failure()
            self._failed(run, exc)
        breaker.record_success()
        self._seal(run, DONE, result=dict(result))

    def _failed(self, run: ActionRun, exc: Exception) -> None:
        error = f"{type(exc).__name__}: {exc}"
        if run.attempt >= self.max_attempts:
            self._seal(run, DEAD, error=error)
            raise PermanentFailure(f"gave up after {run.attempt} attempts: {error}")
        self._seal(run, ATTEMPT_FAILED, error=error)
        raise ActionUnavailable(error)

    def _draft(self, run: ActionRun, status: str, **details: Any) -> EntryDraft:
        payload: dict[str, Any] = {
            "decision_id": run.decision_id,
            "decision_seq": run.decision_seq,
            "action_id": run.action_id,
            "type": run.spec.type,
            "destination": run.spec.destination,
            "status": status,
            "attempt": run.attempt,
            "recorded_at": isoformat(self.clock.now()),
        }
        payload.update({k: v for k, v in details.items() if v is not None})
        return EntryDraft(
            ACTION_KIND, subject_of(run.decision_id), payload, tenant_id=run.tenant_id
        )

    def _seal(self, run: ActionRun, status: str, **details: Any) -> None:
        self.ledger.append(self._draft(run, status, **details))

    # -- reading and approving -------------------------------------------------------

    def _decision(self, decision_id: str) -> dict[str, Any]:
        found = self._decision_lookup(decision_id)
        if found is None or not isinstance(found.get("action"), Mapping):
            raise PermanentFailure(f"decision {decision_id} carries no action")
        return found

    def _decision_lookup(self, decision_id: str) -> dict[str, Any] | None:
        """The sealed decision (with its seq and amount), through the decision service."""
        lookup = self.decisions
        if lookup is None:
            return None
        try:
            entry = lookup._decision_entry(decision_id)
        except NotFound:
            return None
        decision = dict(entry.payload)
        decision["seq"] = entry.seq
        measured = {m.get("name"): m.get("value") for m in decision.get("measurements") or []}
        decision["amount_minor"] = measured.get("amount_minor")
        return decision

    def _entries(self, decision_id: str) -> list[dict[str, Any]]:
        return [
            {**e.payload, "seq": e.seq}
            for e in self.ledger.history(subject_of(decision_id))
            if e.kind == ACTION_KIND
        ]

    @staticmethod
    def _allowed(decision: Mapping[str, Any], entries: list[dict[str, Any]]) -> bool:
        if decision.get("decision") == "allow":
            return True
        return decision.get("decision") == "flag" and any(
            e.get("status") == "approved" for e in entries
        )

    def status(self, decision: Mapping[str, Any]) -> dict[str, Any]:
        """Where the decision's action stands: its sealed results and its outbox row."""
        action = decision.get("action")
        decision_id = str(decision.get("decision_id"))
        if not isinstance(action, Mapping):
            raise NotFound(f"decision {decision_id} carries no action")
        entries = self._entries(decision_id)
        verdict = decision.get("decision")
        if entries:
            state = str(entries[-1]["status"])
            if state == "approved":
                state = PENDING
        elif verdict == "allow":
            state = PENDING
        elif verdict == "flag":
            state = AWAITING_APPROVAL
        else:
            state = SKIPPED
        outbox = None
        if self.outbox is not None and action.get("event_id"):
            row = self.outbox.get(str(action["event_id"]))
            if row is not None:
                outbox = {
                    "status": row.status,
                    "attempts": row.attempts,
                    "available_at": row.available_at,
                    "last_error": row.last_error,
                }
        return {
            "decision_id": decision_id,
            "action_id": action.get("action_id", decision_id),
            "type": action.get("type"),
            "destination": action.get("destination"),
            "source": action.get("source"),
            "status": state,
            "attempts": sum(1 for e in entries if e["status"] == PERFORMING),
            "results": entries,
            "outbox": outbox,
        }

    def review(
        self, decision: Mapping[str, Any], *, approve: bool, actor: str, note: str | None
    ) -> dict[str, Any]:
        """Approve (perform) or reject (skip) the action of a flagged decision."""
        current = self.status(decision)
        if current["status"] != AWAITING_APPROVAL:
            raise Conflict(
                f"the action is {current['status']}; only one awaiting approval can be reviewed",
                code=ActionCode.ACTION_NOT_AWAITING_APPROVAL,
            )
        action = decision["action"]
        decision_id = str(decision["decision_id"])
        spec = ActionSpec.from_dict(action)
        tenant_id = str(decision["tenant_id"])
        payload = {
            "decision_id": decision_id,
            "action_id": action.get("action_id", decision_id),
            "type": spec.type,
            "destination": spec.destination,
            "status": "approved" if approve else SKIPPED,
            "reviewed_by": actor,
            "note": note,
            "recorded_at": isoformat(self.clock.now()),
        }
        events: tuple[EventEnvelope, ...] = ()
        if approve:
            events = (self._perform_event(str(action["event_id"]), decision_id, spec, tenant_id),)
        self.ledger.append(
            EntryDraft(
                ACTION_KIND, subject_of(decision_id), payload, tenant_id=tenant_id, events=events
            )
        )
        return self.status(decision)

    # -- the allowlist (tenant admins) -----------------------------------------------

    def put_destination(
        self,
        tenant_id: str,
        name: str,
        *,
        url: Any,
        secret: Any = None,
        allow_private: Any = False,
        timeout_seconds: Any = 5.0,
        actor: str,
    ) -> tuple[Destination, str | None]:
        """Add or replace an allowlist entry; returns it and the secret when generated
        here (shown once: it is never returned again)."""
        errors: list[FieldError] = []
        problem = name_problem(name)
        if problem:
            errors.append(FieldError("/name", problem))
        errors.extend(url_errors(url))
        if secret is not None and (
            not isinstance(secret, str) or len(secret) < MIN_SECRET_CHARS or len(secret) > 256
        ):
            errors.append(FieldError("/secret", f"expected {MIN_SECRET_CHARS} to 256 characters"))
        if not isinstance(allow_private, bool):
            errors.append(FieldError("/allow_private", "expected true or false"))
        if (
            isinstance(timeout_seconds, bool)
            or not isinstance(timeout_seconds, int | float)
            or not 0 < timeout_seconds <= MAX_TIMEOUT_SECONDS
        ):
            errors.append(
                FieldError(
                    "/timeout_seconds",
                    f"expected a number of seconds in (0, {MAX_TIMEOUT_SECONDS}]",
                )
            )
        if not errors and not allow_private:
            errors.extend(_private_literal(str(url)))
        if errors:
            raise InvalidInput("invalid destination", errors=errors)
        generated = None if secret is not None else secrets.token_hex(32)
        destination = Destination(
            tenant_id=tenant_id,
            name=name,
            url=str(url),
            secret=str(secret if secret is not None else generated),
            allow_private=bool(allow_private),
            timeout_seconds=float(timeout_seconds),
            created_at=isoformat(self.clock.now()),
            created_by=actor,
        )
        self._seal_destination(destination, "put")
        self.destinations.put(destination)
        return destination, generated

    def destination(self, tenant_id: str, name: str) -> Destination:
        found = self.destinations.get(tenant_id, name)
        if found is None:
            raise NotFound(f"no destination {name}")
        return found

    def list_destinations(self, tenant_id: str) -> list[Destination]:
        return self.destinations.list(tenant_id)

    def delete_destination(self, tenant_id: str, name: str, actor: str) -> None:
        found = self.destination(tenant_id, name)
        self._seal_destination(found, "delete", actor=actor)
        self.destinations.delete(tenant_id, name)

    def _seal_destination(self, d: Destination, change: str, actor: str | None = None) -> None:
        payload = {
            **d.public(),
            "change": change,
            "secret_sha256": hashlib.sha256(d.secret.encode()).hexdigest(),
            "actor": actor or d.created_by,
        }
        self.ledger.append(
            EntryDraft(
                DESTINATION_KIND, f"action-destination:{d.name}", payload, tenant_id=d.tenant_id
            )
        )


def _private_literal(url: str) -> list[FieldError]:
    """An address literal (or `localhost`) that is not public, refused when the entry is
    written; names are checked again at every send (DNS answers change)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    try:
        resolve(host, parts.port or default_port(parts.scheme), allow_private=False)
    except AddressRefused as exc:
        if "does not resolve" in str(exc):
            return []  # may resolve later; checked at every send
        return [FieldError("/url", f"{exc}; set allow_private to allow it")]
    return []
