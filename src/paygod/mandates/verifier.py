"""Verifying mandate credentials: a native grant's signature and parties, an AP2 chain's
signatures, disclosures, bindings and times, and either again at decision time.

Registered keys and principals' tenant and kind are immutable once read, so they are
remembered: a decision re-verifies the signatures without a database round trip for them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from paygod.kernel.clock import Clock
from paygod.kernel.errors import FieldError, InvalidInput
from paygod.mandates import ap2, native
from paygod.mandates.errors import MandateCode, PartiesRefused, Refusal, mandate_refused
from paygod.mandates.jose import VerificationFailed, thumbprint, verify_jws
from paygod.mandates.model import Mandate, MandateStatus, PaymentUnderMandate, PrincipalKey
from paygod.mandates.ports import KeyStore

# principal id -> (tenant_id, kind) of a principal, None if unknown.
PrincipalLookup = Callable[[str], tuple[str, str] | None]
MAX_CREDENTIAL = 64_000


def refused(exc: VerificationFailed, pointer: str) -> InvalidInput:
    return InvalidInput(
        f"mandate refused: {exc.detail}",
        code=mandate_refused(exc.reason),
        errors=[FieldError(pointer + exc.pointer if exc.pointer else pointer, exc.detail)],
    )


def mandate_id_of(digest: str) -> str:
    """Derived from the credential: the same signed grant or AP2 chain presented twice is
    the same mandate, refused the second time (a replayed credential grants nothing)."""
    return "md-" + digest.removeprefix("sha256:")[:32]


class Verifier:
    def __init__(self, keys: KeyStore, principals: PrincipalLookup, clock: Clock) -> None:
        self.keys = keys
        self.principals = principals
        self.clock = clock
        self._kinds: dict[str, tuple[str, str]] = {}
        self._keys: dict[tuple[str, str], PrincipalKey] = {}

    def kind(self, tenant_id: str, principal_id: str) -> str | None:
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

    def native(self, tenant_id: str, grant: Any, now: datetime | None = None) -> Mandate:
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
            raise PartiesRefused("mandate refused; nothing was recorded", errors=errors)
        now = now or self.clock.now()
        if constraints.not_after is not None and constraints.not_after <= now:
            raise InvalidInput(
                "mandate refused: it has already expired",
                code=MandateCode.MANDATE_EXPIRED,
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
        elif self.kind(tenant_id, str(grantor)) != "human":
            errors.append(FieldError("/grant/grantor", "the grantor must be a human principal"))
        if not isinstance(grantee, str) or self.kind(tenant_id, grantee) != "agent":
            errors.append(
                FieldError("/grant/grantee", "the grantee must be an agent of this tenant")
            )
        if claims.get("kind", "payment") != "payment":
            errors.append(FieldError("/grant/kind", "native mandates are payment mandates"))
        return errors

    def ap2(
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
        if self.kind(tenant_id, root.principal_id) != "human":
            errors.append(
                FieldError("/credential", "the root credential is not signed by a human principal")
            )
        if agent is None or self.kind(tenant_id, agent.principal_id) != "agent":
            errors.append(
                FieldError("/credential", "the holder key (cnf.jwk) is no agent's registered key")
            )
        if errors:
            raise PartiesRefused("mandate refused; nothing was recorded", errors=errors)
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

    def stored(self, mandate: Mandate, now: datetime) -> None:
        """The stored credential verified again at decision time: signatures, bindings and
        times (a key is never unregistered, so this is the mandate's integrity, cheaply)."""
        cred = mandate.credential
        if cred.get("format") == "native":
            self.native(mandate.tenant_id, cred["grant"], now=now)
        else:
            self.ap2(
                mandate.tenant_id,
                cred["credential"],
                cred.get("audience"),
                cred.get("nonce"),
                now=now,
            )


def merchant_allowed(mandate: Mandate, merchant: str | None) -> bool:
    c = mandate.constraints
    if c.payee is not None:
        return merchant == c.payee
    return not c.merchants or merchant in c.merchants


def problems(
    mandate: Mandate | None, req: PaymentUnderMandate, now: datetime
) -> list[tuple[Refusal, str]]:
    """Why this payment may not be made under this mandate: (reason, detail), in order."""
    if mandate is None or mandate.tenant_id != req.tenant_id:
        return [("unknown", f"no mandate {req.mandate_id}")]
    c = mandate.constraints
    found: list[tuple[Refusal, str]] = []
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
        found.append(("currency", f"the mandate is in {c.currency}, the payment in {req.currency}"))
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
