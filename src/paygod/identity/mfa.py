"""TOTP (RFC 6238) enrolment and step-up verification, with replay protection.

A code is accepted once: the store keeps the last accepted time-step counter and an
atomic conditional UPDATE refuses any counter at or below it, even across processes.
"""

from __future__ import annotations

import hmac

import pyotp

from paygod.identity.model import Principal
from paygod.identity.stores.sql import SqlRunner
from paygod.kernel.clock import Clock, isoformat
from paygod.kernel.errors import Conflict, NotFound

ISSUER = "Paygod"
STEP_SECONDS = 30
WINDOW = 1  # one step either side: bounded clock skew of phone and server


class TotpService:
    def __init__(self, sql: SqlRunner, clock: Clock) -> None:
        self.sql = sql
        self.clock = clock

    def enroll(self, principal: Principal) -> tuple[str, str]:
        """A new secret and its otpauth:// URI (render as a QR code); confirmed by a code."""
        if self.enrolled(principal.principal_id):
            raise Conflict("TOTP already enrolled for this principal")
        secret = pyotp.random_base32()
        self.sql.run("DELETE FROM identity_totp WHERE principal_id = ?", (principal.principal_id,))
        self.sql.run(
            "INSERT INTO identity_totp (principal_id, secret, confirmed, last_counter, created_at)"
            " VALUES (?, ?, 0, NULL, ?)",
            (principal.principal_id, secret, isoformat(self.clock.now())),
        )
        uri = pyotp.TOTP(secret).provisioning_uri(
            name=f"{principal.name}@{principal.tenant_id}", issuer_name=ISSUER
        )
        return secret, uri

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
        counter = self._matching_counter(row[0], code)
        if counter is None:
            return False
        self.sql.run(
            "UPDATE identity_totp SET confirmed = 1, last_counter = ? WHERE principal_id = ?",
            (counter, principal_id),
        )
        return True

    def verify(self, principal_id: str, code: str) -> bool:
        """True once per valid code: a replayed or older code is refused."""
        row = self.sql.one(
            "SELECT secret FROM identity_totp WHERE principal_id = ? AND confirmed = 1",
            (principal_id,),
        )
        if row is None:
            return False
        counter = self._matching_counter(row[0], code)
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
