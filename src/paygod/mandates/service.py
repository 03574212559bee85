"""The mandate service: register keys, grant (native), import (AP2), revoke, read; check a
payment against its mandate and hold its allowance; measure it for packs.

Every write is one ledger transaction under `mandate:<id>` (or `mandate-key:<kid>`): the
entry, the index row and, for a grant, the allowance accounts and their funding commit
together or not at all. Verification failures are refused with their reason and pointer
(InvalidInput, code `mandate-<reason>`); nothing is recorded.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable
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
from paygod.mandates.allowance import Allowance, refusal
from paygod.mandates.errors import MandateCode
from paygod.mandates.jose import VerificationFailed, public_jwk, thumbprint
from paygod.mandates.model import Mandate, MandateStatus, PaymentUnderMandate, PrincipalKey
from paygod.mandates.ports import KeyStore, MandateStore
from paygod.mandates.verifier import PrincipalLookup, Verifier, problems

__all__ = ["MandateService", "PrincipalLookup", "subject_of"]


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
        self.verifier = Verifier(keys, principals, clock)

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
        if self.verifier.kind(tenant_id, principal_id) is None:
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
                raise Conflict(
                    f"key id {key.key_id!r} is already registered", code=MandateCode.KEY_EXISTS
                )
            return None, [draft]

        self.ledger.transact(work)
        return key

    def grant(self, tenant_id: str, grant: Any, *, actor: str, any_grantor: bool) -> Mandate:
        """A native mandate: the grantor's signed grant, verified, sealed and funded.
        `any_grantor` (scope all): the caller may submit a grant another human signed."""
        mandate = self.verifier.native(tenant_id, grant)
        if not any_grantor and mandate.grantor != actor:
            raise Forbidden(
                "you may submit only grants you signed yourself", code=MandateCode.NOT_GRANTOR
            )
        return self._seal_grant(mandate, actor)

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
        mandate = self.verifier.ap2(tenant_id, credential, audience, nonce)
        if grantee is not None and grantee != mandate.grantee:
            raise InvalidInput(
                "mandate refused: the holder key is not the named agent's",
                code=MandateCode.MANDATE_BINDING,
                errors=[FieldError("/grantee", "the credential binds another agent's key")],
            )
        return self._seal_grant(mandate, actor)

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
                    code=MandateCode.MANDATE_REPLAYED,
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
                raise Conflict("the mandate is already revoked", code=MandateCode.MANDATE_REVOKED)
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

    def hold_requests(
        self, conn: Any, req: PaymentUnderMandate, payment_id: str
    ) -> tuple[builtins.list[Any] | PaygodError, builtins.list[Any]]:
        mandate = self.store.get_in(conn, req.mandate_id)  # revocations committed are seen
        now = self.clock.now()
        found = problems(mandate, req, now)
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
