"""The mandate service: register keys, grant (native), import (AP2), revoke, read; check a
payment against its mandate and hold its allowance; measure it for packs.

Every write is one ledger transaction under `mandate:<id>` (or `mandate-key:<kid>`): the
entry, the index row and, for a grant, the allowance accounts and their funding commit
together or not at all. Verification failures are refused with their reason and pointer
(InvalidInput, code `mandate-<reason>`); nothing is recorded.
"""

from __future__ import annotations

import builtins
import hashlib
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

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
from paygod.kernel.identifiers import identifier_problem
from paygod.ledger import EntryDraft, LedgerService
from paygod.mandates import ap2, native
from paygod.mandates.allowance import Allowance, refusal
from paygod.mandates.jose import VerificationFailed, public_jwk, thumbprint, verify_jws
from paygod.mandates.model import Mandate, MandateStatus, PaymentUnderMandate, PrincipalKey
from paygod.mandates.ports import KeyStore, MandateStore

# principal id -> (tenant_id, kind) of a principal, None if unknown.
PrincipalLookup = Callable[[str], tuple[str, str] | None]
MAX_CREDENTIAL = 64_000


def refused(exc: VerificationFailed, pointer: str) -> InvalidInput:
    return InvalidInput(
        f"mandate refused: {exc.detail}",
        code=f"mandate-{exc.reason}",
        errors=[FieldError(pointer + exc.pointer if exc.pointer else pointer, exc.detail)],
    )


def subject_of(mandate_id: str) -> str:
    return f"mandate:{mandate_id}"


class MandateService:
    def __init__(
        self,
        ledger: LedgerService,
        clock: Clock,
        store: MandateStore,
        keys: KeyStore,
        allowance: Allowance,
        principals: PrincipalLookup,
        read_available: Callable[[str, str], int | None],
    ) -> None:
        self.ledger = ledger
        self.clock = clock
        self.store = store
        self.keys = keys
        self.allowance = allowance
        self.principals = principals
        self.read_available = read_available
        self._kinds: dict[str, tuple[str, str]] = {}
        self._keys: dict[tuple[str, str], PrincipalKey] = {}

    # -- keys ---------------------------------------------------------------------------

    def register_key(
        self, tenant_id: str, *, principal_id: str, key_id: Any, jwk: Any, actor: str
    ) -> PrincipalKey:
        errors: list[FieldError] = []
        if not isinstance(key_id, str) or identifier_problem(key_id) or len(key_id) > 200:
            errors.append(FieldError("/key_id", "a key id: 1 to 200 visible characters"))
        try:
            public = public_jwk(jwk)
        except VerificationFailed as exc:
            errors.append(FieldError("/jwk", exc.detail))
        if self._principal(tenant_id, principal_id) is None:
            errors.append(FieldError("/principal_id", "no such principal in this tenant"))
        if errors:
            raise InvalidInput("invalid key; nothing was recorded", errors=errors)
        key = PrincipalKey(
            tenant_id, principal_id, str(key_id), public, thumbprint(public), self.clock.now()
        )
        draft = EntryDraft(
            "mandate.key_registered",
            f"mandate-key:{key.key_id}",
            {**key.as_dict(), "actor": actor},
            tenant_id=tenant_id,
        )

        def work(conn: Any) -> tuple[None, list[EntryDraft]]:
            if not self.keys.add(conn, key):
                raise Conflict(f"key id {key.key_id!r} is already registered", code="key-exists")
            return None, [draft]

        self.ledger.transact(work)
        return key

    def _principal(self, tenant_id: str, principal_id: str) -> str | None:
        """The principal's kind if it belongs to `tenant_id` (a principal's tenant and kind
        never change, so they are remembered once read)."""
        found = self._kinds.get(principal_id)
        if found is None:
            found = self.principals(principal_id)
            if found is not None:
                self._kinds[principal_id] = found
        return found[1] if found is not None and found[0] == tenant_id else None

    def _signer(self, tenant_id: str, key_id: str) -> PrincipalKey | None:
        """A registered key (immutable once registered: remembered once read)."""
        found = self._keys.get((tenant_id, key_id))
        if found is None:
            found = self.keys.get(tenant_id, key_id)
            if found is not None:
                self._keys[(tenant_id, key_id)] = found
        return found

    def _key(self, tenant_id: str, key_id: str) -> Mapping[str, str] | None:
        found = self._signer(tenant_id, key_id)
        return found.jwk if found is not None else None

    # -- granting -----------------------------------------------------------------------

    def grant(self, tenant_id: str, grant: Any, *, actor: str, any_grantor: bool) -> Mandate:
        """A native mandate: the grantor's signed grant, verified, sealed and funded.
        `any_grantor` (scope all): the caller may submit a grant another human signed."""
        mandate = self._verify_native(tenant_id, grant)
        if not any_grantor and mandate.grantor != actor:
            raise Forbidden("you may submit only grants you signed yourself", code="not-grantor")
        return self._seal_grant(mandate, actor)

    def _verify_native(self, tenant_id: str, grant: Any, now: datetime | None = None) -> Mandate:
        try:
            header = native.header_of(grant)
            kid = header.get("kid")
            signer = self._signer(tenant_id, kid) if isinstance(kid, str) else None
            if signer is None:
                raise VerificationFailed("signer", "the grant's kid names no key of this tenant")
            _, claims = verify_jws(grant, signer.jwk)
        except VerificationFailed as exc:
            raise refused(exc, "/grant") from None
        errors = self._parties(tenant_id, claims, signer)
        constraints = native.constraints_of(claims.get("constraints"))
        if errors:
            raise InvalidInput(
                "mandate refused; nothing was recorded", code="mandate-parties", errors=errors
            )
        now = now or self.clock.now()
        if constraints.not_after is not None and constraints.not_after <= now:
            raise InvalidInput(
                "mandate refused: it has already expired",
                code="mandate-expired",
                errors=[FieldError("/constraints/not_after", "in the past")],
            )
        digest = "sha256:" + hashlib.sha256(grant.encode("ascii")).hexdigest()
        return Mandate(
            mandate_id=mandate_id_of(digest),
            tenant_id=tenant_id,
            grantor=str(claims["grantor"]),
            grantee=str(claims["grantee"]),
            kind="payment",
            mode="open",
            form="native",
            constraints=constraints,
            digest=digest,
            credential={"format": "native", "grant": grant},
            granted_at=now,
            key_id=signer.key_id,
        )

    def _parties(
        self, tenant_id: str, claims: Mapping[str, Any], signer: PrincipalKey
    ) -> list[FieldError]:
        errors: list[FieldError] = []
        if claims.get("tenant_id") != tenant_id:
            errors.append(FieldError("/grant/tenant_id", "the grant is for another tenant"))
        grantor, grantee = claims.get("grantor"), claims.get("grantee")
        if grantor != signer.principal_id:
            errors.append(FieldError("/grant/grantor", "signed by someone other than the grantor"))
        elif self._principal(tenant_id, str(grantor)) != "human":
            errors.append(FieldError("/grant/grantor", "the grantor must be a human principal"))
        if not isinstance(grantee, str) or self._principal(tenant_id, grantee) != "agent":
            errors.append(
                FieldError("/grant/grantee", "the grantee must be an agent of this tenant")
            )
        if claims.get("kind", "payment") != "payment":
            errors.append(FieldError("/grant/kind", "native mandates are payment mandates"))
        return errors

    def import_ap2(
        self,
        tenant_id: str,
        credential: Any,
        *,
        audience: str | None,
        nonce: str | None,
        grantee: str | None,
        actor: str,
    ) -> Mandate:
        """An AP2 v0.2 credential chain, verified end to end, sealed and funded."""
        mandate = self._verify_ap2(tenant_id, credential, audience, nonce)
        if grantee is not None and grantee != mandate.grantee:
            raise InvalidInput(
                "mandate refused: the holder key is not the named agent's",
                code="mandate-binding",
                errors=[FieldError("/grantee", "the credential binds another agent's key")],
            )
        return self._seal_grant(mandate, actor)

    def _verify_ap2(
        self,
        tenant_id: str,
        credential: Any,
        audience: str | None,
        nonce: str | None,
        now: datetime | None = None,
    ) -> Mandate:
        if not isinstance(credential, str) or not 0 < len(credential) <= MAX_CREDENTIAL:
            raise InvalidInput(
                "a credential is a compact string",
                errors=[FieldError("/credential", f"1 to {MAX_CREDENTIAL} characters")],
            )
        now = now or self.clock.now()
        try:
            chain = ap2.verify_chain(
                credential,
                lambda kid: self._key(tenant_id, kid),
                audience=audience,
                nonce=nonce,
                now=int(now.timestamp()),
            )
            kind, mode, constraints = ap2.constraints_of(chain)
            if chain.closed is not None and chain.closed.get("vct") == ap2.CLOSED_CHECKOUT:
                ap2.checkout_binding(chain.closed, lambda kid: self._key(tenant_id, kid))
            holder = thumbprint(chain.holder)
        except VerificationFailed as exc:
            raise refused(exc, "/credential") from None
        root = self._signer(tenant_id, chain.root_kid)
        assert root is not None  # verify_chain found it
        agent = next(iter(self.keys.by_thumbprint(tenant_id, holder)), None)
        errors: list[FieldError] = []
        if self._principal(tenant_id, root.principal_id) != "human":
            errors.append(
                FieldError("/credential", "the root credential is not signed by a human principal")
            )
        if agent is None or self._principal(tenant_id, agent.principal_id) != "agent":
            errors.append(
                FieldError("/credential", "the holder key (cnf.jwk) is no agent's registered key")
            )
        if errors:
            raise InvalidInput(
                "mandate refused; nothing was recorded", code="mandate-parties", errors=errors
            )
        assert agent is not None
        digest = "sha256:" + hashlib.sha256(credential.encode("ascii")).hexdigest()
        return Mandate(
            mandate_id=mandate_id_of(digest),
            tenant_id=tenant_id,
            grantor=root.principal_id,
            grantee=agent.principal_id,
            kind=kind,
            mode=mode,
            form="ap2",
            constraints=constraints,
            digest=digest,
            credential={
                "format": "ap2",
                "credential": credential,
                "audience": audience,
                "nonce": nonce,
            },
            granted_at=now,
            key_id=root.key_id,
        )

    def _seal_grant(self, mandate: Mandate, actor: str) -> Mandate:
        event = self._event("mandate.granted", mandate)
        draft = EntryDraft(
            "mandate.granted",
            subject_of(mandate.mandate_id),
            {**mandate.as_dict(), "actor": actor},
            tenant_id=mandate.tenant_id,
            events=(event,),
        )

        def work(conn: Any) -> tuple[None, list[Any]]:
            if self.store.get_in(conn, mandate.mandate_id) is not None:
                raise Conflict(
                    "this mandate was already granted: a credential is used once",
                    code="mandate-replayed",
                )
            drafts = self.allowance.open(conn, mandate)
            self.store.save(conn, mandate)
            return None, [*drafts, draft]

        self.ledger.transact(work)
        return mandate

    # -- revoking and reading -------------------------------------------------------------

    def revoke(
        self, mandate_id: str, *, tenant_id: str | None, actor: str, any_mandate: bool, reason: Any
    ) -> Mandate:
        if reason is not None and (not isinstance(reason, str) or len(reason) > 500):
            raise InvalidInput(
                "invalid reason", errors=[FieldError("/reason", "up to 500 characters")]
            )
        current = self.get(mandate_id, tenant_id)
        if not any_mandate and actor not in (current.grantor, current.grantee):
            raise NotFound(f"no mandate {mandate_id}")

        def work(conn: Any) -> tuple[Mandate, list[EntryDraft]]:
            found = self.store.get_in(conn, mandate_id)
            assert found is not None
            if found.status is MandateStatus.REVOKED:
                raise Conflict("the mandate is already revoked", code="mandate-revoked")
            after = found.revoked(self.clock.now(), actor, str(reason or "revoked"))
            self.store.save(conn, after)
            draft = EntryDraft(
                "mandate.revoked",
                subject_of(mandate_id),
                {
                    "mandate_id": mandate_id,
                    "revoked_at": isoformat(after.revoked_at or self.clock.now()),
                    "revoked_by": actor,
                    "reason": after.revocation_reason,
                },
                tenant_id=after.tenant_id,
                events=(self._event("mandate.revoked", after),),
            )
            return after, [draft]

        revoked, _ = self.ledger.transact(work)
        assert isinstance(revoked, Mandate)
        return revoked

    def get(self, mandate_id: str, tenant_id: str | None, as_of: str | None = None) -> Mandate:
        found = self.store.get(mandate_id)
        if found is None or (tenant_id is not None and found.tenant_id != tenant_id):
            raise NotFound(f"no mandate {mandate_id}")
        if as_of is None:
            return found
        return self._as_of(found, as_of)

    def _as_of(self, mandate: Mandate, as_of: str) -> Mandate:
        try:
            at = parse_instant(as_of)
        except (ValueError, TypeError):
            raise InvalidInput(
                "as_of is an ISO 8601 instant", errors=[FieldError("/as_of", "not an instant")]
            ) from None
        state: Mandate | None = None
        for entry in self.ledger.history(subject_of(mandate.mandate_id)):
            # The mandate's own times (granted_at, revoked_at), not the entry's recording.
            own = entry.payload.get("granted_at") or entry.payload.get("revoked_at")
            if own is None or parse_instant(own) > at:
                break
            if entry.kind == "mandate.granted":
                state = Mandate.from_dict({k: v for k, v in entry.payload.items() if k != "actor"})
            elif entry.kind == "mandate.revoked" and state is not None:
                state = state.revoked(
                    parse_instant(entry.payload["revoked_at"]),
                    entry.payload["revoked_by"],
                    entry.payload["reason"],
                )
        if state is None:
            raise NotFound(f"mandate {mandate.mandate_id} did not exist at {as_of}")
        return state

    def list(self, tenant_id: str | None, grantee: str | None = None) -> builtins.list[Mandate]:
        return self.store.list(tenant_id, grantee)

    def remaining(self, mandate: Mandate) -> dict[str, Any]:
        return self.allowance.remaining(mandate, self.read_available)

    def view(self, mandate: Mandate) -> dict[str, Any]:
        return {**mandate.as_dict(), "allowance": self.remaining(mandate)}

    # -- payments ---------------------------------------------------------------------------

    def verify_stored(self, mandate: Mandate, now: datetime) -> None:
        """The stored credential verified again at decision time: signatures, bindings and
        times (a key is never unregistered, so this is the mandate's integrity, cheaply)."""
        cred = mandate.credential
        if cred.get("format") == "native":
            self._verify_native(mandate.tenant_id, cred["grant"], now=now)
        else:
            self._verify_ap2(
                mandate.tenant_id,
                cred["credential"],
                cred.get("audience"),
                cred.get("nonce"),
                now=now,
            )

    def problems(
        self, mandate: Mandate | None, req: PaymentUnderMandate, now: datetime
    ) -> builtins.list[tuple[str, str]]:
        """Why this payment may not be made under this mandate: (reason, detail), in order."""
        if mandate is None or mandate.tenant_id != req.tenant_id:
            return [("unknown", f"no mandate {req.mandate_id}")]
        c = mandate.constraints
        found: builtins.list[tuple[str, str]] = []
        if mandate.status is MandateStatus.REVOKED:
            found.append(("revoked", f"mandate {mandate.mandate_id} was revoked"))
        if mandate.kind != "payment":
            found.append(("kind", "a checkout mandate does not authorise payments by itself"))
        if req.agent != mandate.grantee:
            found.append(("grantee", "the payment is not made by the mandate's agent"))
        if c.not_before is not None and now < c.not_before:
            found.append(("not-yet-valid", "the mandate is not valid yet"))
        if c.not_after is not None and now >= c.not_after:
            found.append(("expired", "the mandate has expired"))
        if req.currency != c.currency:
            found.append(
                ("currency", f"the mandate is in {c.currency}, the payment in {req.currency}")
            )
        if c.max_per_payment is not None and req.amount > c.max_per_payment:
            found.append(("amount", "the payment exceeds the mandate's amount per payment"))
        if not merchant_allowed(mandate, req.merchant):
            found.append(("merchant", "the merchant is not one the mandate allows"))
        if c.categories and req.category not in c.categories:
            found.append(("category", "the merchant category is not one the mandate allows"))
        if c.rails and req.rail not in c.rails:
            found.append(("rail", "the rail is not one the mandate allows"))
        if c.transaction_id is not None and req.transaction_id != c.transaction_id:
            found.append(("checkout", "the payment is not the transaction the human confirmed"))
        if c.transaction_id is not None and req.amount != c.budget:
            found.append(("amount", "a closed mandate pays exactly the confirmed amount"))
        return found

    def hold_requests(
        self, conn: Any, req: PaymentUnderMandate, payment_id: str
    ) -> tuple[builtins.list[Any] | PaygodError, builtins.list[Any]]:
        mandate = self.store.get_in(conn, req.mandate_id)  # revocations committed are seen
        now = self.clock.now()
        found = self.problems(mandate, req, now)
        if found:
            reason, detail = found[0]
            return refusal(reason, detail), []
        assert mandate is not None
        return self.allowance.holds(conn, mandate, payment_id, req.amount)

    def hold_ids(self, conn: Any, mandate_id: str, payment_id: str) -> builtins.list[str]:
        mandate = self.store.get_in(conn, mandate_id)
        return self.allowance.hold_ids(conn, mandate, payment_id) if mandate else []

    def dispatch_problem(self, conn: Any, mandate_id: str) -> str | None:
        """Checked in the transaction that records the intent to send: revoked or expired
        since the payment was held -> the payment is stopped before the rail is called."""
        mandate = self.store.get_in(conn, mandate_id)
        if mandate is None:
            return f"mandate {mandate_id} is unknown"
        if mandate.status is MandateStatus.REVOKED:
            return f"mandate {mandate_id} was revoked"
        limit = mandate.constraints.not_after
        if limit is not None and self.clock.now() >= limit:
            return f"mandate {mandate_id} expired"
        return None

    def _event(self, event_type: str, mandate: Mandate) -> EventEnvelope:
        now = self.clock.now()
        return EventEnvelope(
            event_type=event_type,
            aggregate_id=mandate.mandate_id,
            aggregate_type="mandate",
            tenant_id=mandate.tenant_id,
            payload={
                "mandate_id": mandate.mandate_id,
                "grantor": mandate.grantor,
                "grantee": mandate.grantee,
                "status": mandate.status.value,
                "digest": mandate.digest,
            },
            occurred_at=now,
            recorded_at=now,
        )


def merchant_allowed(mandate: Mandate, merchant: str | None) -> bool:
    c = mandate.constraints
    if c.payee is not None:
        return merchant == c.payee
    return not c.merchants or merchant in c.merchants


def mandate_id_of(digest: str) -> str:
    """Derived from the credential: the same signed grant or AP2 chain presented twice is
    the same mandate, refused the second time (a replayed credential grants nothing)."""
    return "md-" + digest.removeprefix("sha256:")[:32]


def epoch(now: datetime) -> int:
    return int(now.astimezone(UTC).timestamp())
