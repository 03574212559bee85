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

from paygod.identity.model import Principal
from paygod.identity.sealing import SecretBox, is_sealed
from paygod.identity.settings import IdentitySettings
from paygod.identity.stores.sql import SqlRunner
from paygod.kernel.clock import Clock, isoformat
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
        self, sql: SqlRunner, clock: Clock, box: SecretBox, settings: IdentitySettings
    ) -> None:
        self.sql = sql
        self.clock = clock
        self.box = box
        self.settings = settings

    def seal_plaintext_rows(self) -> int:
        """Stores written before secrets were sealed: seal them in place (idempotent)."""
        sealed = 0
        for principal_id, secret in self.sql.all("SELECT principal_id, secret FROM identity_totp"):
            if not is_sealed(secret):
                sealed += self.sql.run(
                    "UPDATE identity_totp SET secret = ? WHERE principal_id = ? AND secret = ?",
                    (self.box.seal(secret, _context(principal_id)), principal_id, secret),
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
        with self.sql.transaction() as tx:
            tx.run("DELETE FROM identity_totp WHERE principal_id = ?", (principal.principal_id,))
            tx.run(
                "UPDATE identity_totp_enrolments SET used_at = ?"
                " WHERE principal_id = ? AND used_at IS NULL",
                (isoformat(now), principal.principal_id),
            )
            tx.run(
                "INSERT INTO identity_totp_enrolments (token_hash, principal_id, tenant_id,"
                " issued_by, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)",
                (
                    _token_hash(token),
                    principal.principal_id,
                    principal.tenant_id,
                    issued_by,
                    isoformat(now),
                    isoformat(expires),
                ),
            )
        return token, expires

    def _redeem(self, principal: Principal, token: str | None) -> None:
        if not token:
            raise Unauthorized(
                "enrolling a human's second factor needs a one-time enrolment token from an"
                " admin (POST /v1/identity/principals/{id}/totp-enrolment) or the host"
                " (paygod users totp-enrolment)",
                code="enrolment-token-required",
            )
        claimed = self.sql.run(
            "UPDATE identity_totp_enrolments SET used_at = ? WHERE token_hash = ?"
            " AND principal_id = ? AND used_at IS NULL AND expires_at > ?",
            (
                isoformat(self.clock.now()),
                _token_hash(token),
                principal.principal_id,
                isoformat(self.clock.now()),
            ),
        )
        if claimed != 1:
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
        with self.sql.transaction() as tx:
            tx.run("DELETE FROM identity_totp WHERE principal_id = ?", (principal.principal_id,))
            tx.run(
                "INSERT INTO identity_totp (principal_id, secret, confirmed, last_counter,"
                " created_at) VALUES (?, ?, 0, NULL, ?)",
                (
                    principal.principal_id,
                    self.box.seal(secret, _context(principal.principal_id)),
                    isoformat(self.clock.now()),
                ),
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
        row = self.sql.one(
            "SELECT issued_by FROM identity_totp_enrolments WHERE principal_id = ?"
            " ORDER BY created_at DESC LIMIT 1",
            (principal_id,),
        )
        return str(row[0]) if row and row[0] else None

    def enrolled(self, principal_id: str) -> bool:
        row = self.sql.one(
            "SELECT confirmed FROM identity_totp WHERE principal_id = ?", (principal_id,)
        )
        return bool(row and row[0])

    def confirm(self, principal_id: str, code: str) -> bool:
        row = self.sql.one(
            "SELECT secret, confirmed FROM identity_totp WHERE principal_id = ?", (principal_id,)
        )
        if row is None:
            raise NotFound("no TOTP enrolment in progress")
        if row[1]:
            raise Conflict("TOTP already enrolled for this principal")
        counter = self._matching_counter(self.box.open(row[0], _context(principal_id)), code)
        if counter is None:
            return False
        claimed = self.sql.run(
            "UPDATE identity_totp SET confirmed = 1, last_counter = ? WHERE principal_id = ?"
            " AND confirmed = 0",
            (counter, principal_id),
        )
        return claimed == 1

    def verify(self, principal_id: str, code: str) -> bool:
        """True once per valid code: a replayed or older code is refused."""
        row = self.sql.one(
            "SELECT secret FROM identity_totp WHERE principal_id = ? AND confirmed = 1",
            (principal_id,),
        )
        if row is None:
            return False
        counter = self._matching_counter(self.box.open(row[0], _context(principal_id)), code)
        if counter is None:
            return False
        claimed = self.sql.run(
            "UPDATE identity_totp SET last_counter = ? WHERE principal_id = ?"
            " AND (last_counter IS NULL OR last_counter < ?)",
            (counter, principal_id, counter),
        )
        return claimed == 1

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
