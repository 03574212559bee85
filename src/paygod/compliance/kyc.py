"""KYC: identity and document verification through a provider, and each subject's status
(level none/basic/full, expiry) as a ledgered fact.

Providers:
- `SimulatedKycProvider`: deterministic by fixtures (subject -> outcome), otherwise an
  identity check gives `basic` and a document check `full`; optional latency and a
  failure rate drawn from a seeded hash of the subject (the same subject fails the same
  way every run).
- `WebhookKycProvider`: submits checks over HTTP and learns outcomes from callbacks signed
  like the payment rails' (HMAC-SHA256, `Paygod-Signature: t=...,v1=...`, replay guard).
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

import orjson

from paygod.canonical import digest
from paygod.compliance.model import KycLevel, KycStatus, ScreeningQuery
from paygod.compliance.ports import KycOutcome, KycProvider, KycStore, SanctionsStore
from paygod.compliance.query import parse_query
from paygod.decisions.measurements import Measurement
from paygod.kernel.clock import Clock, isoformat, parse_instant
from paygod.kernel.credentials import credential_problems
from paygod.kernel.errors import FieldError, InvalidInput, NotFound, Unauthorized, Unavailable
from paygod.kernel.events import EventEnvelope
from paygod.kernel.identifiers import subject_problem
from paygod.ledger import EntryDraft
from paygod.payments.errors import webhook_code
from paygod.payments.signing import ReplayGuard, SeenSignatures, WebhookRejected, verify

VALIDITY = timedelta(days=365)
CHECKS = ("identity", "document")
STATUSES = ("verified", "pending", "rejected")


class SimulatedKycProvider:
    def __init__(
        self,
        name: str = "simulated",
        *,
        fixtures: Mapping[str, Mapping[str, Any]] | None = None,
        latency: float = 0.0,
        failure_rate: float = 0.0,
        seed: int = 7,
        clock: Clock | None = None,
    ) -> None:
        self.name = name
        self.fixtures = dict(fixtures or {})
        self.latency = latency
        self.failure_rate = failure_rate
        self.seed = seed
        self.clock = clock
        self._pending: dict[str, KycOutcome] = {}

    def _fails(self, subject: str) -> bool:
        draw = hashlib.sha256(f"{self.seed}:{subject}".encode()).digest()
        return int.from_bytes(draw[:8], "big") / 2**64 < self.failure_rate

    def _outcome(self, subject: str, default: KycLevel) -> KycOutcome:
        if self.latency:
            time.sleep(self.latency)
        if self._fails(subject):
            raise Unavailable(f"KYC provider {self.name} did not answer", retry_after=5)
        reference = f"{self.name}-{hashlib.sha256(subject.encode()).hexdigest()[:16]}"
        now = self.clock.now() if self.clock else datetime.now().astimezone()
        fixture = self.fixtures.get(subject, {})
        status = str(fixture.get("status", "verified"))
        level = KycLevel(fixture.get("level", default.value if status == "verified" else "none"))
        outcome = KycOutcome(
            status, level, reference, now + VALIDITY, str(fixture.get("reason", ""))
        )
        if status == "pending":
            eventual = fixture.get("then", {"status": "verified", "level": default.value})
            self._pending[reference] = KycOutcome(
                str(eventual["status"]), KycLevel(eventual["level"]), reference, now + VALIDITY
            )
        return outcome

    def verify_identity(self, subject: str, identity: Mapping[str, Any]) -> KycOutcome:
        return self._outcome(subject, KycLevel.BASIC)

    def verify_document(self, subject: str, document: Mapping[str, Any]) -> KycOutcome:
        return self._outcome(subject, KycLevel.FULL)

    def check_status(self, reference: str) -> KycOutcome:
        if reference in self._pending:
            return self._pending.pop(reference)
        raise NotFound(f"provider {self.name} knows no pending check {reference!r}")


class WebhookKycProvider:
    """Checks submitted to a provider's HTTP API; results arrive by signed callback."""

    def __init__(self, name: str, url: str, secret: bytes, *, timeout: float = 5.0) -> None:
        self.name = name
        self.url = url.rstrip("/")
        self.secret = secret
        self.timeout = timeout

    def _call(self, method: str, path: str, body: Mapping[str, Any] | None = None) -> KycOutcome:
        import httpx

        try:
            response = httpx.request(
                method, self.url + path, json=dict(body) if body else None, timeout=self.timeout
            )
            response.raise_for_status()
            data = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise Unavailable(f"KYC provider {self.name}: {exc}", retry_after=5) from None
        return outcome_from(data, self.name)

    def verify_identity(self, subject: str, identity: Mapping[str, Any]) -> KycOutcome:
        return self._call("POST", "/checks", {"subject": subject, "type": "identity", **identity})

    def verify_document(self, subject: str, document: Mapping[str, Any]) -> KycOutcome:
        return self._call("POST", "/checks", {"subject": subject, "type": "document", **document})

    def check_status(self, reference: str) -> KycOutcome:
        return self._call("GET", f"/checks/{reference}")


def outcome_from(data: Any, provider: str) -> KycOutcome:
    """A provider's JSON answer or callback body: {reference, status, level, expires_at?}."""
    errors: list[FieldError] = []
    if not isinstance(data, Mapping):
        raise InvalidInput(
            f"{provider}: expected a JSON object", errors=[FieldError("", "expected an object")]
        )
    reference = data.get("reference")
    if not isinstance(reference, str) or not reference or subject_problem(reference):
        errors.append(FieldError("/reference", "expected the check's reference"))
    status = data.get("status")
    if status not in STATUSES:
        errors.append(FieldError("/status", f"expected one of {', '.join(STATUSES)}"))
    level = data.get("level", "none")
    if level not in {lv.value for lv in KycLevel}:
        errors.append(FieldError("/level", "expected none, basic or full"))
    expires: datetime | None = None
    if data.get("expires_at") is not None:
        try:
            expires = parse_instant(str(data["expires_at"]))
        except ValueError:
            errors.append(FieldError("/expires_at", "expected an RFC 3339 instant"))
    if errors:
        raise InvalidInput(f"invalid answer from KYC provider {provider}", errors=errors)
    return KycOutcome(
        str(status), KycLevel(level), str(reference), expires, str(data.get("reason", ""))
    )


def kyc_subject(subject: str) -> str:
    """The data subject of a KYC subject id: itself when a URN, else under `urn:paygod:kyc:`."""
    return subject if subject.startswith("urn:") else f"urn:paygod:kyc:{subject}"


class KycService:
    def __init__(
        self,
        ledger: Any,
        clock: Clock,
        store: KycStore,
        providers: Mapping[str, KycProvider],
        *,
        subjects: SanctionsStore | None = None,
        webhook_secret: bytes = b"",
        replay_guard: SeenSignatures | None = None,
        vault: Any = None,
    ) -> None:
        # The privacy vault (paygod.privacy.PrivacyService): KYC evidence is sealed there
        # under the subject's key, so erasing the subject leaves none readable.
        self.vault = vault
        self.ledger = ledger
        self.clock = clock
        self.store = store
        self.providers = dict(providers)
        self.subjects = subjects
        self.webhook_secret = webhook_secret
        self.replay_guard = replay_guard or ReplayGuard()

    def provider(self, name: str | None) -> KycProvider:
        chosen = name or next(iter(self.providers))
        if chosen not in self.providers:
            raise InvalidInput(
                f"no KYC provider named {chosen!r}",
                errors=[FieldError("/provider", f"expected one of {', '.join(self.providers)}")],
            )
        return self.providers[chosen]

    def verify(self, tenant_id: str, body: Any, *, actor: str) -> dict[str, Any]:
        """body: {subject, check: identity|document, provider?, data: {...}}; an identity
        with a name is also remembered for sanctions re-screening."""
        if not isinstance(body, Mapping):
            raise InvalidInput(
                "expected a JSON object", errors=[FieldError("", "expected an object")]
            )
        errors: list[FieldError] = []
        subject = body.get("subject")
        if not isinstance(subject, str) or subject_problem(subject):
            errors.append(
                FieldError("/subject", subject_problem(str(subject or "")) or "expected a string")
            )
        check = body.get("check", "identity")
        if check not in CHECKS:
            errors.append(FieldError("/check", "expected identity or document"))
        data = body.get("data", {})
        if not isinstance(data, Mapping):
            errors.append(FieldError("/data", "expected an object"))
        provider_name = body.get("provider")
        if provider_name is not None and not isinstance(provider_name, str):
            errors.append(FieldError("/provider", "expected a string"))
        query: ScreeningQuery | None = None
        if not errors and check == "identity" and isinstance(data, Mapping) and "name" in data:
            try:
                query, _ = parse_query(
                    {k: data[k] for k in ("name", "dob", "country") if k in data},
                    allow_subject=False,
                )
            except InvalidInput as exc:
                errors.extend(FieldError("/data" + e.pointer, e.message) for e in exc.errors)
        if errors:
            raise InvalidInput("invalid KYC request", errors=errors)
        assert isinstance(subject, str) and isinstance(data, Mapping)
        provider = self.provider(provider_name)
        if check == "identity":
            outcome = provider.verify_identity(subject, data)
        else:
            outcome = provider.verify_document(subject, data)
        return self.record(
            tenant_id, subject, provider.name, outcome, actor=actor, evidence=data, query=query
        )

    def record(
        self,
        tenant_id: str,
        subject: str,
        provider: str,
        outcome: KycOutcome,
        *,
        actor: str,
        evidence: Mapping[str, Any] | None = None,
        query: ScreeningQuery | None = None,
    ) -> dict[str, Any]:
        now = self.clock.now()
        verified = outcome.status == "verified"
        status = KycStatus(
            tenant_id=tenant_id,
            subject=subject,
            level=outcome.level if verified else KycLevel.NONE,
            status=outcome.status,
            provider=provider,
            reference=outcome.reference,
            verified_at=now if verified else None,
            expires_at=outcome.expires_at if verified else None,
        )
        payload = {
            **status.as_dict(),
            "reason": outcome.reason,
            # Identity data is personal: the ledger holds its digest only.
            "evidence_digest": digest(dict(evidence)) if evidence else None,
            "recorded_by": actor,
        }
        del payload["seq"]
        event = EventEnvelope(
            event_type="compliance.kyc_status_changed",
            aggregate_id=subject,
            aggregate_type="kyc",
            tenant_id=tenant_id,
            payload={
                k: payload[k]
                for k in (
                    "subject",
                    "level",
                    "status",
                    "provider",
                    "reference",
                    "verified_at",
                    "expires_at",
                )
            },
            occurred_at=now,
            recorded_at=now,
        )
        draft = EntryDraft(
            "kyc.status", f"kyc:{subject}", payload, tenant_id=tenant_id, events=(event,)
        )

        def work(conn: Any) -> tuple[None, list[EntryDraft]]:
            if self.vault is not None and evidence:
                sealed = self.vault.seal_in(conn, tenant_id, kyc_subject(subject), "kyc", evidence)
                payload["evidence_record"] = sealed.urn
            self.store.put(conn, status)
            if query is not None and self.subjects is not None:
                self.subjects.remember_subject(conn, tenant_id, subject, query)
            return None, [draft]

        _, (entry,) = self.ledger.transact(work)
        return {**status.as_dict(now), "seq": entry.seq}

    def status(
        self, tenant_id: str, subject: str, *, as_of: datetime | None = None
    ) -> dict[str, Any]:
        now = self.clock.now()
        if as_of is None:
            found = self.store.get(tenant_id, subject)
        else:
            entries = [
                e
                for e in self.ledger.history(f"kyc:{subject}", tenant_id)
                if e.recorded_at <= as_of
            ]
            found = _from_entry(entries[-1].payload, entries[-1].seq) if entries else None
            now = as_of
        if found is None:
            found = KycStatus(tenant_id, subject, KycLevel.NONE, "none")
        return found.as_dict(now)

    def refresh(self, tenant_id: str, subject: str, *, actor: str) -> dict[str, Any]:
        current = self.store.get(tenant_id, subject)
        if current is None or current.provider is None or current.reference is None:
            raise NotFound(f"no KYC check recorded for {subject!r}")
        if current.status != "pending":
            return current.as_dict(self.clock.now())
        outcome = self.provider(current.provider).check_status(current.reference)
        return self.record(tenant_id, subject, current.provider, outcome, actor=actor)

    def callback(self, provider: str, header: str | None, body: bytes) -> dict[str, Any]:
        """A provider's signed result for a pending check."""
        try:
            verify(
                self.webhook_secret,
                header,
                body,
                now=int(self.clock.now().timestamp()),
                guard=self.replay_guard,
            )
        except WebhookRejected as exc:
            raise Unauthorized(exc.detail, code=webhook_code(exc.reason)) from None
        try:
            data = orjson.loads(body)
        except orjson.JSONDecodeError:
            raise InvalidInput(
                "the callback body is not JSON", errors=[FieldError("", "not JSON")]
            ) from None
        if secrets_found := credential_problems(data):
            # A signed sender is still no reason to seal a credential it pasted in.
            raise InvalidInput(
                "the body holds a credential; nothing was recorded", errors=secrets_found
            )
        outcome = outcome_from(data, provider)
        current = self.store.by_reference(provider, outcome.reference)
        if current is None:
            raise NotFound(f"no KYC check {outcome.reference!r} from {provider}")
        return self.record(
            current.tenant_id, current.subject, provider, outcome, actor=f"webhook:{provider}"
        )

    def measurement_source(
        self, tenant_id: str, subject: str, packs: Sequence[Any]
    ) -> list[Measurement]:
        """`kyc.level` and `kyc.verified_at` for the decision's subject, measured only when a
        selected pack reads them (the other decisions' sealed measurements stay as they were)."""
        if not any(b"measure.kyc" in getattr(p, "source", b"") for p in packs):
            return []
        found = self.measurements(tenant_id, subject)
        return [
            Measurement("kyc.level", found["level"], "level", "compliance:kyc"),
            Measurement("kyc.verified_at", found["verified_at"], "instant", "compliance:kyc"),
        ]

    def measurements(self, tenant_id: str, subject: str) -> dict[str, Any]:
        """What packs read as `measure.kyc.level` and `measure.kyc.verified_at`."""
        now = self.clock.now()
        found = self.store.get(tenant_id, subject)
        if found is None:
            return {"level": KycLevel.NONE.value, "verified_at": None}
        level = found.effective_level(now)
        return {
            "level": level.value,
            "verified_at": isoformat(found.verified_at)
            if found.verified_at and level != KycLevel.NONE
            else None,
        }


def _from_entry(payload: Mapping[str, Any], seq: int) -> KycStatus:
    return KycStatus(
        tenant_id=str(payload["tenant_id"]),
        subject=str(payload["subject"]),
        level=KycLevel(payload["level"]),
        status=str(payload["status"]),
        provider=payload.get("provider"),
        reference=payload.get("reference"),
        verified_at=parse_instant(payload["verified_at"]) if payload.get("verified_at") else None,
        expires_at=parse_instant(payload["expires_at"]) if payload.get("expires_at") else None,
        seq=seq,
    )
