"""TOTP (RFC 6238) enrolment and step-up verification, with replay protection.

A code is accepted once: the store keeps the last accepted time-step counter and an
atomic conditional UPDATE refuses any counter at or below it, even across processes.

Enrolment is bound to something other than the API key: a human enrols with a one-time
enrolment token that an admin issued (`issue_enrolment`, itself a step-up action) or the
host operator printed (`paygod init`, `paygod users totp-enrolment`). Otherwise whoever
stole a human's key could enrol first and own the second factor. Issuing a token resets
the principal's factor: that is how the real owner recovers a lost or stolen one.
Secrets are sealed at rest under the key-encryption key (`sealing.py`).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta

import pyotp

from paygod.identity.errors import IdentityCode
from paygod.identity.model import EnrolmentToken, Principal, TotpFactor
from paygod.identity.ports import TotpStore
from paygod.identity.sealing import SecretBox, is_sealed
from paygod.identity.settings import IdentitySettings
from paygod.kernel.clock import Clock
from paygod.kernel.errors import Conflict, FieldError, InvalidInput, NotFound, Unauthorized

ISSUER = "Paygod"
STEP_SECONDS = 30
WINDOW = 1  # one step either side: bounded clock skew of phone and server
ENROLMENT_PREFIX = "pgenrol_"


def _context(principal_id: str) -> str:
    return f"identity_totp:{principal_id}"


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class TotpService:
    def __init__(
        self, store: TotpStore, clock: Clock, box: SecretBox, settings: IdentitySettings
    ) -> None:
        self.store = store
        self.clock = clock
        self.box = box
        self.settings = settings

    def seal_plaintext_rows(self) -> int:
        """Stores written before secrets were sealed: seal them in place (idempotent)."""
        sealed = 0
        for factor in self.store.factors():
            secret, principal_id = factor.secret, factor.principal_id
            if not is_sealed(secret):
                sealed += self.store.replace_factor_secret(
                    principal_id, secret, self.box.seal(secret, _context(principal_id))
                )
        return sealed

    # -- enrolment tokens --------------------------------------------------------------
    def issue_enrolment(
        self, principal: Principal, *, issued_by: str | None
    ) -> tuple[str, datetime]:
        """A one-time enrolment token for `principal`, valid `totp_enrolment_ttl_seconds`.
        Resets the principal's factor and voids its earlier unused tokens."""
        token = ENROLMENT_PREFIX + secrets.token_urlsafe(32)
        now = self.clock.now()
        expires = now + timedelta(seconds=self.settings.totp_enrolment_ttl_seconds)
        self.store.start_enrolment(
            EnrolmentToken(
                _token_hash(token),
                principal.principal_id,
                principal.tenant_id,
                issued_by,
                now,
                expires,
            )
        )
        return token, expires

    def _redeem(self, principal: Principal, token: str | None) -> None:
        if not token:
            raise Unauthorized(
                "enrolling a human's second factor needs a one-time enrolment token from an"
                " admin (POST /v1/identity/principals/{id}/totp-enrolment) or the host"
                " (paygod users totp-enrolment)",
                code=IdentityCode.ENROLMENT_TOKEN_REQUIRED,
            )
        if not self.store.redeem_enrolment(
            _token_hash(token), principal.principal_id, self.clock.now()
        ):
            raise InvalidInput(
                "the enrolment token is unknown, used, expired or issued for someone else",
                errors=[FieldError("/enrolment_token", "not a valid enrolment token")],
            )

    # -- enrolment -----------------------------------------------------------------------
    def enroll(self, principal: Principal, token: str | None = None) -> tuple[str, str]:
        """A new secret and its otpauth:// URI (render as a QR code); confirmed by a code.
        Humans need an enrolment token; agents and services may enrol with their key (they
        need no factor unless enrolled, and an admin's token resets a factor someone else
        enrolled)."""
        if self.enrolled(principal.principal_id):
            raise Conflict(
                "TOTP already enrolled for this principal; an admin resets it by issuing an"
                " enrolment token"
            )
        if principal.is_human or token:
            self._redeem(principal, token)
        secret = pyotp.random_base32()
        self.store.put_factor(
            TotpFactor(
                principal.principal_id,
                self.box.seal(secret, _context(principal.principal_id)),
                confirmed=False,
                created_at=self.clock.now(),
            )
        )
        uri = pyotp.TOTP(secret).provisioning_uri(
            name=f"{principal.name}@{principal.tenant_id}", issuer_name=ISSUER
        )
        return secret, uri

    def factor_issuer(self, principal_id: str) -> str | None:
        """Who issued the enrolment token behind the principal's current factor: issuing a
        token deletes the factor, so a factor in place was enrolled with the newest token.
        None when there is no factor or a host operator issued it."""
        if not self.enrolled(principal_id):
            return None
        newest = self.store.newest_enrolment(principal_id)
        return newest.issued_by if newest and newest.issued_by else None

    def enrolled(self, principal_id: str) -> bool:
        factor = self.store.get_factor(principal_id)
        return factor is not None and factor.confirmed

    def confirm(self, principal_id: str, code: str) -> bool:
        factor = self.store.get_factor(principal_id)
        if factor is None:
            raise NotFound("no TOTP enrolment in progress")
        if factor.confirmed:
            raise Conflict("TOTP already enrolled for this principal")
        counter = self._matching_counter(self.box.open(factor.secret, _context(principal_id)), code)
        if counter is None:
            return False
        return self.store.confirm_factor(principal_id, counter)

    def verify(self, principal_id: str, code: str) -> bool:
        """True once per valid code: a replayed or older code is refused."""
        factor = self.store.get_factor(principal_id)
        if factor is None or not factor.confirmed:
            return False
        counter = self._matching_counter(self.box.open(factor.secret, _context(principal_id)), code)
        if counter is None:
            return False
        return self.store.claim_counter(principal_id, counter)

    def _matching_counter(self, secret: str, code: str) -> int | None:
        code = code.strip()
        if not (code.isdigit() and len(code) == 6):
            return None
        totp = pyotp.TOTP(secret)
        current = int(self.clock.now().timestamp()) // STEP_SECONDS
        for counter in range(current - WINDOW, current + WINDOW + 1):
            if hmac.compare_digest(totp.generate_otp(counter), code):
                return counter
        return None
