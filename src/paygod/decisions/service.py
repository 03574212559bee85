"""The decision service: validate → measure → evaluate → seal (one ledger transaction).

A sealed decision is three consecutive ledger entries written atomically: the
measurements, the evidence (references only) and the decision itself, which carries
a `decision.finalized` event for the outbox. The first time a pack digest is used,
the pack's exact source is recorded too, so any decision can be replayed bit for bit
after the pack file has changed.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from paygod.canonical import CanonicalizationError, sha256_hex
from paygod.decisions.engine import evaluate, evaluate_set
from paygod.decisions.evidence import (
    find_raw_pii,
    find_unhashable_numbers,
    require_references,
)
from paygod.decisions.measurements import (
    ConsentLookup,
    Measurement,
    amount_problems,
    consent_purposes,
    measure,
    measure_in,
    nest,
    request_amount,
    values,
)
from paygod.decisions.model import (
    DecisionRequest,
    Pack,
    SealedDecision,
    SetResult,
)
from paygod.decisions.packs import PackInvalid, PackRepository, compile_pack, validate_input
from paygod.decisions.ports import (
    DecisionIndex,
    DuplicateKey,
    IndexRow,
    PolicyRouter,
    RiskScorer,
)
from paygod.kernel import observations, tracing
from paygod.kernel.clock import Clock
from paygod.kernel.credentials import credential_problems
from paygod.kernel.errors import Conflict, FieldError, InvalidInput, NotFound
from paygod.kernel.events import EventEnvelope
from paygod.kernel.idempotency import require_same_request
from paygod.kernel.identifiers import subject_problem
from paygod.kernel.logging import get_logger
from paygod.kernel.record_ids import new_id
from paygod.ledger import Entry, EntryDraft, LedgerService, presealed
from paygod.ledger.steps import Steps, run_blocking

# An in-process caller's entries sealed with a decision: (conn, the decision's record with
# `ledger.seq`) -> drafts, run inside the ledger's writer (see `_decide_steps`).
Companions = Callable[[Any, Mapping[str, Any]], Sequence[EntryDraft]]
# Called outside the writer with the decision's record as evaluated before sealing (the one
# sealed, unless a decision committed meanwhile changed its measurements): the caller's
# costly work on the verdict done there, so its companions, in the writer, only look it up.
Prepare = Callable[[Mapping[str, Any]], None]

DECISION_KIND = "decision"
EVIDENCE_KIND = "evidence"
MEASUREMENT_KIND = "measurement"
PACK_KIND = "pack"
SEQ_CACHE = 100_000
log = get_logger("paygod.decisions")


def pack_subject(name: str) -> str:
    # Pack names are any non-empty string (the paygod/v1 contract); percent-encoding
    # keeps the subject a URN. Names of [A-Za-z0-9._-] are unchanged by it.
    return f"urn:paygod:pack:{quote(name, safe='')}"


def subject_errors(subject: Any) -> list[FieldError]:
    """A subject is an identifier: it becomes the ledger subject of the sealed entries and
    is printed in audit output, so it holds no control, format or other invisible
    character (kernel/identifiers.py), as account ids do."""
    if not isinstance(subject, str):
        return [FieldError("/subject", "expected a string")]
    problem = subject_problem(subject)
    return [FieldError("/subject", problem)] if problem else []


class DecisionService:
    def __init__(
        self,
        ledger: LedgerService,
        packs: PackRepository,
        clock: Clock,
        index: DecisionIndex,
        risk: RiskScorer | None = None,
    ) -> None:
        self.ledger = ledger
        self.packs = packs
        self.clock = clock
        self.index = index
        self.risk = risk
        self._published: set[str] = set()
        self._seqs: dict[str, int] = {}
        self._publish_lock = threading.Lock()
        # Set by the composition root when those modules are wired: the action planner
        # (paygod.actions.ActionService) and the consent registry's check.
        self.actions: Any = None
        self.consent: ConsentLookup | None = None
        # The policy governance hooks (paygod.governance.GovernanceService), when wired.
        self.policy: PolicyRouter | None = None
        # Other modules' measurements (KYC level...): (tenant, subject, packs) -> list.
        self.measurement_sources: list[Callable[[str, str, Sequence[Pack]], list[Measurement]]] = []
        # Sources that read the request itself (a mandate named in the context):
        # (tenant, requested_by, input, context) -> list.
        self.request_measurement_sources: list[
            Callable[[str, str | None, Mapping[str, Any], Mapping[str, Any]], list[Measurement]]
        ] = []

    # -- choosing and checking ---------------------------------------------------------

    def select_packs(self, names: Sequence[str] | None, input_doc: Any) -> list[Pack]:
        if names is not None:
            if not isinstance(names, list | tuple) or not names:
                raise InvalidInput(
                    "packs must be a non-empty array of pack names",
                    errors=[FieldError("/packs", "expected a non-empty array of pack names")],
                )
            selected: list[Pack] = []
            errors: list[FieldError] = []
            for position, name in enumerate(names):
                pack = self.packs.get(name) if isinstance(name, str) else None
                if pack is None:
                    errors.append(FieldError(f"/packs/{position}", f"no pack named {name!r}"))
                elif pack not in selected:
                    selected.append(pack)
            if errors:
                raise InvalidInput("unknown pack", errors=errors)
            return selected
        # Without names, every pack that declares an input present in the request applies.
        keys = set(input_doc) if isinstance(input_doc, dict) else set()
        applicable = [p for p in self.packs.packs() if {i.name for i in p.inputs} & keys]
        if not applicable:
            raise InvalidInput(
                "no pack applies to this input; name the packs to use",
                errors=[FieldError("/packs", "no loaded pack declares any of the input's keys")],
            )
        return applicable

    def check_request(
        self, subject: Any, context: Any, input_doc: Any, packs: Sequence[Pack]
    ) -> None:
        # The subject was checked before the Idempotency-Key look-up (`decide_steps`).
        errors: list[FieldError] = []
        if not isinstance(context, dict):
            errors.append(FieldError("/context", "expected an object"))
        if not isinstance(input_doc, dict):
            errors.append(FieldError("/input", "expected an object keyed by input name"))
        if errors:
            raise InvalidInput("invalid decision request", errors=errors)
        for pack in packs:
            for error in validate_input(pack, input_doc):
                errors.append(FieldError(f"/input{error.pointer}", error.message))
        # After the packs' schemas, so a pack that already refuses the amount says why.
        reported = {error.pointer for error in errors}
        errors.extend(
            FieldError(where, reason)
            for where, reason in amount_problems(input_doc, context)
            if where not in reported
        )
        errors.extend(find_raw_pii(subject, "/subject"))
        errors.extend(find_raw_pii(input_doc, "/input"))
        errors.extend(find_raw_pii(context, "/context"))
        # The hot path skips StrictJsonRoute's body rule: the credential rule is held here.
        errors.extend(credential_problems(subject, "/subject"))
        errors.extend(credential_problems(input_doc, "/input"))
        errors.extend(credential_problems(context, "/context"))
        errors.extend(require_references(context.get("evidence_refs"), "/context/evidence_refs"))
        if self.risk is not None:
            errors.extend(self.risk.problems(context))
        if errors:
            raise InvalidInput("invalid decision request", errors=errors)

    # -- deciding ----------------------------------------------------------------------

    def decide(self, **request: Any) -> dict[str, Any]:
        """`decide_steps` run to the end from this thread (see ledger/steps.py)."""
        return run_blocking(self.ledger, self.decide_steps(**request))

    def decide_steps(self, **request: Any) -> Steps[dict[str, Any]]:
        """`_decide_steps`, inside a `paygod.decision` span when tracing is on."""
        if not tracing.enabled():
            return self._decide_steps(**request)
        return self._traced_decide_steps(request)

    def _traced_decide_steps(self, request: dict[str, Any]) -> Steps[dict[str, Any]]:
        decision_span = tracing.start("paygod.decision")
        try:
            result = yield from self._decide_steps(**request, trace=decision_span)
            decision_span.set_attribute("paygod.decision_id", str(result.get("decision_id")))
            decision_span.set_attribute("paygod.verdict", str(result.get("decision")))
            return result
        except Exception as exc:
            decision_span.record_exception(exc)
            raise
        finally:
            decision_span.end()

    def _decide_steps(
        self,
        *,
        subject: str,
        context: Mapping[str, Any],
        input: Mapping[str, Any],
        packs: Sequence[str] | None = None,
        idempotency_key: str | None = None,
        tenant_id: str = "default",
        requested_by: str | None = None,
        owner: str | None = None,
        receipt: bool = True,
        action: Any = None,
        trace: Any = None,
        companions: Companions | None = None,
        prepare: Prepare | None = None,
    ) -> Steps[dict[str, Any]]:
        """Decide, seal and return the sealed decision with its receipt (`ledger`): seq,
        inclusion proof and a signed tree head covering it. `receipt=False` leaves out the
        proof and head for in-process callers that keep only the seq (the payment
        decider), which spares them the proof's reads and, now and then, a signature.
        `requested_by` is recorded in the index; `owner` (scope `own`) keeps an
        idempotency key of another principal from replaying its decision. `companions`
        (in-process callers): entries the caller seals in the decision's own transaction,
        after it, built from its record (with `ledger.seq`) inside the writer; not called
        when the key replays an earlier decision (`replayed` is then true). `prepare`
        (with `companions`): called with the record outside the writer, before it.

        identify → (replay) → check → measure → draft (evaluate) → seal."""
        input_hash, request_hash = self._identify(subject, context, input, packs, action)
        if idempotency_key is not None:
            existing = self.index.by_key(tenant_id, idempotency_key)
            if existing is not None:
                return self._repeat(existing, request_hash, owner)
        selected = self.select_packs(packs, input)
        self.check_request(subject, context, input, selected)
        shadows: list[Pack] = []
        if self.policy is not None:  # a canary subject is decided by the challenger
            selected, shadows = self.policy.route(tenant_id, subject, selected)
        started = time.perf_counter()
        input_doc: dict[str, Any] = dict(input)
        context_doc: dict[str, Any] = dict(context)
        amount = request_amount(input_doc, context_doc)
        spec = None if action is None else self._requested_action(tenant_id, action, amount)
        now = self.clock.now()
        found, risk = self._measure(
            tenant_id, subject, requested_by, input_doc, context_doc, now, selected
        )
        request = DecisionRequest(
            new_id(),
            tenant_id,
            subject,
            input_doc,
            context_doc,
            input_hash,
            request_hash,
            idempotency_key,
            requested_by,
            amount,
            now,
            tracing.traceparent_of(trace) if trace is not None else None,
        )
        leading = self._risk_drafts(request, risk)
        plan = _Plan(request, selected, shadows, spec, risk, trace, started, companions, prepare)
        return (
            yield from self._seal(
                plan, [*self._publications(selected, tenant_id), *leading], found, owner, receipt
            )
        )

    def _identify(
        self,
        subject: str,
        context: Mapping[str, Any],
        input: Mapping[str, Any],
        packs: Sequence[str] | None,
        action: Any,
    ) -> tuple[str, str]:
        """The input's hash (reused as the sealed input_hash) and the request's.

        Checked before the Idempotency-Key is looked up: a request that could never be
        sealed is refused as such (422), not compared with an earlier one (409)."""
        malformed = [
            *subject_errors(subject),
            *find_unhashable_numbers(input, "/input"),
            *find_unhashable_numbers(context, "/context"),
        ]
        if malformed:
            raise InvalidInput("invalid decision request", errors=malformed)
        try:
            input_hash = sha256_hex(input)
        except CanonicalizationError as exc:
            raise InvalidInput(
                "the request has no RFC 8785 form",
                errors=[FieldError("/input" + exc.pointer, str(exc))],
            ) from None
        try:
            # Its members are the body's own (input_hash stands in for input), so a pointer
            # into it is a pointer into the request body.
            identity: dict[str, Any] = {
                "subject": subject,
                "context": context,
                "input_hash": input_hash,
                "packs": list(packs) if packs is not None else None,
            }
            if action is not None:  # absent otherwise: earlier requests keep their hash
                identity["action"] = action
            return input_hash, sha256_hex(identity)
        except CanonicalizationError as exc:
            raise InvalidInput(
                "the request has no RFC 8785 form", errors=[FieldError(exc.pointer, str(exc))]
            ) from None

    def _measure(
        self,
        tenant_id: str,
        subject: str,
        requested_by: str | None,
        input_doc: dict[str, Any],
        context_doc: dict[str, Any],
        now: datetime,
        selected: Sequence[Pack],
    ) -> tuple[list[Measurement], Any]:
        """The limits' measurements, other modules' (KYC, mandates...) and the risk
        assessment's, with the assessment itself (None without risk or a money move)."""
        found = measure(
            self.index,
            tenant_id=tenant_id,
            subject=subject,
            input_doc=input_doc,
            context=context_doc,
            now=now,
            consent=self.consent,
            purposes=consent_purposes(selected),
        )
        for source in self.measurement_sources:
            found.extend(source(tenant_id, subject, selected))
        for request_source in self.request_measurement_sources:
            found.extend(request_source(tenant_id, requested_by, input_doc, context_doc))
        if self.risk is None:
            return found, None
        risk = self.risk.assess_request(
            tenant_id=tenant_id, subject=subject, input_doc=input_doc, context=context_doc, now=now
        )
        if risk is not None:
            found.extend(
                Measurement(n, v, unit, "paygod:risk") for n, v, unit in risk.measurements()
            )
        return found, risk

    def _risk_drafts(self, request: DecisionRequest, risk: Any) -> list[EntryDraft]:
        if self.risk is None or risk is None:
            return []
        return self.risk.drafts(
            risk,
            decision_id=request.decision_id,
            idempotency_key=request.idempotency_key,
            requested_by=request.requested_by,
        )

    def _evaluate(
        self, plan: _Plan, measured: list[Measurement]
    ) -> tuple[SealedDecision, EventEnvelope | None]:
        """The packs' verdict on these measurements, the shadows' beside it and the
        action it plans, with the event performing that action (an allowed one)."""
        r = plan.request
        result = evaluate_set(plan.packs, r.input, values(measured))
        shadowed = (
            self.policy.shadow(plan.shadows, r.input, values(measured))
            if self.policy is not None and plan.shadows
            else []
        )
        spec = plan.action
        if spec is None and self.actions is not None:
            spec = self._rule_action(plan.packs, result)
        member, perform = None, None
        if spec is not None:
            member, perform = self.actions.sealed_action(
                spec, r.decision_id, result.verdict.value, r.tenant_id, plan.trace
            )
        sealed = SealedDecision(
            r,
            result,
            [m.as_dict() for m in measured],
            [p.digest for p in plan.packs],
            shadow=shadowed,
            action=member,
        )
        return sealed, perform

    def _draft(
        self, plan: _Plan, leading: Sequence[EntryDraft], measured: list[Measurement]
    ) -> tuple[list[EntryDraft], SealedDecision]:
        """The entries sealing one evaluation: what leads (pack publications, the risk
        assessment), then the measurements, the evidence and the decision with its events."""
        sealed, perform = self._evaluate(plan, measured)
        r = sealed.request
        events = (sealed.event(), perform) if perform is not None else (sealed.event(),)
        drafts = [
            *leading,
            EntryDraft(
                MEASUREMENT_KIND,
                r.subject,
                {"decision_id": r.decision_id, "measurements": sealed.measurements},
                tenant_id=r.tenant_id,
            ),
            EntryDraft(
                EVIDENCE_KIND,
                r.subject,
                {"decision_id": r.decision_id, **sealed.evidence()},
                tenant_id=r.tenant_id,
            ),
            EntryDraft(
                DECISION_KIND, r.subject, sealed.record(), tenant_id=r.tenant_id, events=events
            ),
        ]
        # Serialised here, outside the ledger's single writer (unless a decision committed
        # meanwhile changed the measurements, when this runs again inside it).
        return [presealed(draft) for draft in drafts], sealed

    def _seal(
        self,
        plan: _Plan,
        leading: Sequence[EntryDraft],
        found: list[Measurement],
        owner: str | None,
        receipt: bool,
    ) -> Steps[dict[str, Any]]:
        """Seal in one ledger transaction. Evaluated outside the ledger's single writer,
        where it costs the writer nothing; measured again inside it (D2), and evaluated
        again only when a decision committed meanwhile changed what the limits see
        (see `measure_in`)."""
        r = plan.request
        outside = self._draft(plan, leading, found)
        chosen = [outside]

        def work(conn: Any) -> tuple[None, list[EntryDraft]]:
            fresh = measure_in(
                self.index,
                conn,
                tenant_id=r.tenant_id,
                subject=r.subject,
                measured=found,
                now=r.now,
            )
            chosen[0] = outside if fresh == found else self._draft(plan, leading, fresh)
            drafts, sealed = chosen[0]
            # The decision is the last draft: its seq is known before it is sealed, so the
            # index row carries it from the start. Without it a read after a restart (the
            # in-memory seq map empty) walked the subject's whole history to find it.
            assert request.first_seq is not None
            seq = request.first_seq + len(drafts) - 1
            extra: Sequence[EntryDraft] = ()
            if plan.companions is not None:  # first: one that refuses leaves no index row
                extra = plan.companions(conn, {**sealed.record(), "ledger": {"seq": seq}})
            extra_count[0] = len(extra)
            self.index.record(conn, replace(sealed.index_row(), seq=seq))
            return None, [*drafts, *extra]

        extra_count = [0]
        if plan.prepare is not None:
            plan.prepare(outside[1].record())

        request = self.ledger.transaction(work)
        seal = tracing.start("paygod.seal", plan.trace) if plan.trace is not None else None
        yield request
        try:
            _, entries = self.ledger.outcome(request)
        except DuplicateKey:
            assert r.idempotency_key is not None
            existing = self.index.by_key(r.tenant_id, r.idempotency_key)
            if existing is None:  # pragma: no cover - the key was taken a moment ago
                raise Conflict("idempotency key is being used concurrently") from None
            return self._repeat(existing, r.request_hash, owner)
        finally:
            if seal is not None:
                seal.end()
        last = len(entries) - 1 - extra_count[0]  # the decision's entry
        self._committed(plan, chosen[0][1], leading, entries[last])
        return self._response(
            entries[last], entries[last - 1], entries[last - 2], replayed=False, receipt=receipt
        )

    def _committed(
        self, plan: _Plan, sealed: SealedDecision, leading: Sequence[EntryDraft], entry: Entry
    ) -> None:
        """Word of a committed decision to whoever keeps state beside the ledger."""
        result = sealed.result
        observations.decided(result.verdict.value, result.deciding.pack)
        if self.policy is not None:
            elapsed_ms = (time.perf_counter() - plan.started) * 1000
            self.policy.record(
                sealed.request.decision_id, plan.packs, result, sealed.shadow, elapsed_ms
            )
        if self.risk is not None and plan.risk is not None:
            self.risk.committed(plan.risk)
        for draft in leading:
            if draft.kind == PACK_KIND:
                self._published.add(str(draft.payload["digest"]))
        # The index row was written before the ledger assigned seqs; remember the seq here
        # instead of a second write transaction per decision (the hot path of sealing).
        self._seqs[sealed.request.decision_id] = entry.seq
        if len(self._seqs) > SEQ_CACHE:
            self._seqs.pop(next(iter(self._seqs)))

    def _requested_action(self, tenant_id: str, action: Any, amount: int | None) -> Any:
        if self.actions is None:
            raise InvalidInput(
                "invalid decision request",
                errors=[FieldError("/action", "actions are not enabled in this kernel")],
            )
        return self.actions.check(tenant_id, action, amount)

    def _rule_action(self, packs: Sequence[Pack], result: SetResult) -> Any:
        """The deciding rule's `action` (a pack extension), when it names one."""
        pack = next((p for p in packs if p.name == result.deciding.pack), None)
        rules = pack.rules if pack is not None else ()
        rule = next((r for r in rules if r.name == result.deciding.rule), None)
        if rule is None or rule.action is None:
            return None
        return self.actions.rule_spec(rule.action)

    def _publications(self, packs: Sequence[Pack], tenant_id: str) -> list[EntryDraft]:
        drafts = []
        with self._publish_lock:
            for pack in packs:
                if pack.digest in self._published:
                    continue
                known = any(
                    e.kind == PACK_KIND and e.payload.get("digest") == pack.digest
                    for e in self.ledger.history(pack_subject(pack.name))
                )
                if known:
                    self._published.add(pack.digest)
                    continue
                drafts.append(
                    EntryDraft(
                        PACK_KIND,
                        pack_subject(pack.name),
                        {
                            "name": pack.name,
                            "version": pack.version,
                            "digest": pack.digest,
                            "source": pack.source.decode("utf-8"),
                        },
                        tenant_id=tenant_id,
                    )
                )
        return drafts

    def _repeat(self, row: IndexRow, request_hash: str, owner: str | None) -> dict[str, Any]:
        require_same_request(
            owner=owner,
            recorded_by=row.requested_by,
            recorded_fingerprint=row.request_hash,
            fingerprint=request_hash,
            request_kind="request body",
            recorded={"decision_id": row.decision_id},
        )
        response = self.get(row.decision_id)
        response["replayed"] = True
        return response

    # -- reading -----------------------------------------------------------------------

    def _decision_entry(self, decision_id: str, owner: str | None = None) -> Entry:
        row = self.index.by_id(decision_id)
        if row is not None and owner is not None and row.requested_by != owner:
            row = None  # another principal's decision reads exactly like a missing one
        entry: Entry | None = None
        seq = self._seqs.get(decision_id) if row is not None else None
        if row is not None and (seq is not None or row.seq is not None):
            entry = self.ledger.get(seq if seq is not None else int(row.seq or 0))
        elif row is not None:  # the seq update was lost: find it in the subject's history
            entry = next(
                (
                    e
                    for e in self.ledger.history(row.subject)
                    if e.kind == DECISION_KIND and e.payload.get("decision_id") == decision_id
                ),
                None,
            )
            if entry is not None:
                try:
                    self.index.set_seq(decision_id, entry.seq)
                except Exception:  # a read must not fail on a store that refuses writes
                    log.warning("decision_seq_not_recorded", decision_id=decision_id)
        if entry is None or entry.kind != DECISION_KIND:
            raise NotFound(f"no decision {decision_id}")
        return entry

    def _companion(self, seq: int, kind: str, decision_id: str) -> Entry | None:
        for candidate in (seq - 1, seq - 2):
            if candidate < 0:
                continue
            entry = self.ledger.get(candidate)
            if (
                entry is not None
                and entry.kind == kind
                and entry.payload.get("decision_id") == decision_id
            ):
                return entry
        return None

    def get(self, decision_id: str, owner: str | None = None) -> dict[str, Any]:
        """A sealed decision; `owner` (scope `own`): only one that principal requested."""
        entry = self._decision_entry(decision_id, owner)
        evidence = self._companion(entry.seq, EVIDENCE_KIND, decision_id)
        measured = self._companion(entry.seq, MEASUREMENT_KIND, decision_id)
        return self._response(entry, evidence, measured, replayed=False)

    def get_by_seq(self, seq: int) -> Entry:
        entry = self.ledger.get(seq)
        if entry is None or entry.kind != DECISION_KIND:
            raise NotFound(f"ledger entry {seq} is not a sealed decision")
        return entry

    def _response(
        self,
        sealed: Entry,
        evidence: Entry | None,
        measured: Entry | None,
        *,
        replayed: bool,
        receipt: bool = True,
    ) -> dict[str, Any]:
        payload = dict(sealed.payload)
        evidence_doc = dict(evidence.payload) if evidence is not None else None
        if evidence_doc is not None:
            evidence_doc.pop("decision_id", None)
        ledger: dict[str, Any] = {
            "seq": sealed.seq,
            "entry_id": sealed.entry_id,
            "record_hash": sealed.record_hash,
            "recorded_at": sealed.timestamp,
            "evidence_seq": evidence.seq if evidence is not None else None,
            "measurements_seq": measured.seq if measured is not None else None,
        }
        issued: dict[str, Any] | None = None
        if receipt:
            # The decision's three entries: its receipt proves the decision (the last),
            # `first_seq` opens the range; `ledger` stays as the older name of the same.
            issued = self.ledger.receipts.issue([e for e in (measured, evidence, sealed) if e])
            assert issued is not None
            ledger["inclusion_proof"] = issued["inclusion_proof"]
            ledger["tree_head"] = issued["tree_head"]
        return {
            **payload,
            "evidence": evidence_doc,
            "explanation": evidence_doc.get("explanation") if evidence_doc else None,
            "ledger": ledger,
            "receipt": issued,
            "replayed": replayed,
        }

    # -- dry run and replay ------------------------------------------------------------

    def evaluate(
        self,
        pack_name: str,
        input_doc: Any,
        measurements: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Evaluate one pack without sealing anything (POST /v1/packs/{name}/evaluate)."""
        pack = self.packs.get(pack_name)
        if pack is None:
            raise NotFound(f"no pack named {pack_name!r}")
        if not isinstance(input_doc, dict):
            raise InvalidInput("invalid input", errors=[FieldError("/input", "expected an object")])
        errors = [
            FieldError(f"/input{e.pointer}", e.message) for e in validate_input(pack, input_doc)
        ]
        if errors:
            raise InvalidInput("invalid input", errors=errors)
        result = evaluate(pack, input_doc, measurements or {})
        return {**result.as_dict(), "sealed": False}

    def _pack_at(self, name: str, digest: str) -> Pack:
        pack = self.packs.by_digest(digest)
        if pack is not None:
            return pack
        for entry in self.ledger.history(pack_subject(name)):
            if entry.kind == PACK_KIND and entry.payload.get("digest") == digest:
                source = str(entry.payload["source"]).encode("utf-8")
                try:
                    pack = compile_pack(source, Path(f"{name}/pack.yaml"))
                except PackInvalid as exc:  # pragma: no cover - it compiled when recorded
                    raise NotFound(
                        f"recorded pack {name} {digest[:12]} no longer compiles"
                    ) from exc
                self.packs.remember(pack)
                return pack
        raise NotFound(f"pack {name} with digest {digest} is neither loaded nor recorded")

    def replay(self, seq: int) -> dict[str, Any]:
        """Re-evaluate a sealed decision with its recorded packs, input and measurements."""
        entry = self.get_by_seq(seq)
        payload = entry.payload
        recorded_packs = [self._pack_at(p["name"], p["digest"]) for p in payload["packs"]]
        measures = nest((m["name"], m["value"]) for m in payload.get("measurements", []))
        again: SetResult = evaluate_set(recorded_packs, payload["input"], measures)
        recorded = {
            "decision": payload["decision"],
            "pack": payload["pack"],
            "rule": payload["rule"],
            "reason": payload["reason"],
        }
        today = {
            "decision": again.verdict.value,
            "pack": again.deciding.pack,
            "rule": again.deciding.rule,
            "reason": again.reason,
        }
        per_pack_same = [
            (p["decision"], p["rule"]) == (r.verdict.value, r.rule)
            for p, r in zip(payload["packs"], again.results, strict=True)
        ]
        identical = recorded == today and all(per_pack_same)
        notes: list[str] = []
        current_packs = []
        for p in payload["packs"]:
            current = self.packs.get(p["name"])
            if current is None:
                notes.append(f"pack {p['name']} is no longer loaded")
                continue
            if current.digest == p["digest"]:
                continue
            outcome = evaluate(current, payload["input"], measures)
            changed = (outcome.verdict.value, outcome.rule) != (p["decision"], p["rule"])
            current_packs.append(
                {
                    "name": current.name,
                    "version": current.version,
                    "digest": current.digest,
                    "decision": outcome.verdict.value,
                    "rule": outcome.rule,
                    "changed_outcome": changed,
                }
            )
            if changed:
                notes.append(
                    f"pack {current.name} {current.version} (now loaded) changed the outcome: "
                    f"{p['decision']} by {p['rule']} -> {outcome.verdict.value} by {outcome.rule}"
                )
        return {
            "seq": seq,
            "decision_id": payload["decision_id"],
            "identical": identical,
            "recorded": recorded,
            "today": today,
            "current_packs": current_packs,
            "notes": notes,
        }

    def list_packs(self) -> dict[str, Any]:
        return {
            "directory": str(self.packs.directory),
            "bundled": self.packs.bundled,
            "packs": [p.summary() for p in self.packs.packs()],
            "refused": [
                {
                    "path": path,
                    "detail": problem.detail,
                    "errors": [e.as_dict() for e in problem.errors],
                }
                for path, problem in sorted(self.packs.problems.items())
            ],
        }


@dataclass(frozen=True)
class _Plan:
    """What every evaluation of one request shares (outside the writer and inside it)."""

    request: DecisionRequest
    packs: Sequence[Pack]
    shadows: Sequence[Pack]
    action: Any  # the requested action's spec, when the request names one
    risk: Any  # the risk assessment (RiskScorer's part), when one
    trace: Any
    started: float  # perf_counter at the start, for the policy's latency figures
    companions: Companions | None = None
    prepare: Prepare | None = None
