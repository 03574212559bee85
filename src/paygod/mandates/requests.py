"""Signed agent requests (RFC 9421) checked against the caller's registered keys, with the
nonce claimed so that a replay inside the validity window is refused."""

from __future__ import annotations

from typing import Any

from paygod.kernel.clock import Clock
from paygod.kernel.errors import FieldError, Unauthorized
from paygod.mandates import httpsig
from paygod.mandates.errors import signature_refused
from paygod.mandates.jose import VerificationFailed, _key_and_alg
from paygod.mandates.ports import KeyStore

MAX_AGE = 300


class SignedRequests:
    def __init__(self, keys: KeyStore, nonces: httpsig.NonceStore, clock: Clock) -> None:
        self.keys = keys
        self.nonces = nonces
        self.clock = clock

    def verify(
        self, tenant_id: str, principal_id: str, message: httpsig.HttpMessage
    ) -> httpsig.Verified:
        """The signature must be by a key `principal_id` registered; its nonce unused."""
        now = int(self.clock.now().timestamp())

        def key_for(key_id: str) -> Any | None:
            found = self.keys.get(tenant_id, key_id)
            if found is None or found.principal_id != principal_id:
                return None  # another principal's key proves nothing about this caller
            return _key_and_alg(found.jwk)[0]

        try:
            verified = httpsig.verify_message(message, key_for, now=now, max_age=MAX_AGE)
            httpsig.replay_check(verified, self.nonces, f"{tenant_id}:{principal_id}", now, MAX_AGE)
        except VerificationFailed as exc:
            raise Unauthorized(
                f"signed request refused: {exc.detail}",
                code=signature_refused(exc.reason),
                errors=[FieldError("/headers/signature", exc.detail)],
            ) from None
        return verified
