"""A human's second factor for tests: enrolled on the host, and fresh codes to send in
`X-Paygod-TOTP` (a code is good once, so each step-up takes the next one)."""

from __future__ import annotations

import pyotp

from paygod.bootstrap import Kernel
from paygod.identity.model import Principal

TOTP_HEADER = "X-Paygod-TOTP"


class SecondFactor:
    def __init__(self, kernel: Kernel, principal: Principal) -> None:
        identity = kernel.identity
        token, _ = identity.totp.issue_enrolment(principal, issued_by=None)
        secret, _ = identity.totp.enroll(principal, token)
        self.kernel, self.totp, self.step = kernel, pyotp.TOTP(secret), 0
        assert identity.totp.confirm(principal.principal_id, self.code())

    def code(self) -> str:
        """A code never used before: on a manual clock, the next 30-second step's (the clock
        moves there); on the real one, the next step ahead (the window allows one)."""
        clock = self.kernel.clock
        self.step += 1
        if self.step > 1 and hasattr(clock, "advance"):
            clock.advance(30)
            return str(self.totp.at(clock.now().timestamp()))
        return str(self.totp.at(clock.now().timestamp() + 30 * (self.step - 1)))

    def header(self) -> dict[str, str]:
        return {TOTP_HEADER: self.code()}
