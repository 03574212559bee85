"""Mandate test material: principals with registered keys, native grants signed with them,
and AP2 v0.2 credential chains built the way the AP2 SDK builds them (delegate SD-JWT:
an issuer SD-JWT whose `delegate_payload` discloses the open mandate, `~~`, a KB-SD-JWT
signed by the open mandate's `cnf.jwk` disclosing the closed one, bound by `sd_hash`)."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from paygod.bootstrap import Kernel
from paygod.identity.model import PrincipalKind, Role
from paygod.mandates.jose import b64url, jwk_of, sha256_b64url, sign_jws
from paygod.mandates.model import Mandate

PAYEE = {"name": "Vendor", "account_number": "000123456789", "routing_number": "021000021"}


@dataclass
class Party:
    principal_id: str
    key_id: str
    private: Any

    @property
    def jwk(self) -> dict[str, str]:
        return jwk_of(self.private.public_key())


def new_key(kind: str = "ed25519") -> Any:
    if kind == "ed25519":
        return ed25519.Ed25519PrivateKey.generate()
    return ec.generate_private_key(ec.SECP256R1())


def party(
    kernel: Kernel,
    name: str,
    kind: PrincipalKind,
    *,
    tenant: str = "default",
    key: str = "ed25519",
    roles: tuple[Role, ...] = (),
) -> Party:
    principal = kernel.identity.create_principal(tenant, name, kind, roles or _roles(kind))
    private = new_key(key)
    key_id = f"{name}-key"
    kernel.mandates.service.register_key(
        tenant,
        principal_id=principal.principal_id,
        key_id=key_id,
        jwk=jwk_of(private.public_key()),
        actor=principal.principal_id,
    )
    return Party(principal.principal_id, key_id, private)


def _roles(kind: PrincipalKind) -> tuple[Role, ...]:
    return (Role.AGENT,) if kind is PrincipalKind.AGENT else (Role.OPERATOR,)


def signed_grant(
    grantor: Party,
    grantee: str,
    constraints: Mapping[str, Any],
    *,
    tenant: str = "default",
    signer: Party | None = None,
    **claims: Any,
) -> str:
    signer = signer or grantor
    payload = {
        "tenant_id": tenant,
        "grantor": grantor.principal_id,
        "grantee": grantee,
        "kind": "payment",
        "iat": int(time.time()),
        "jti": b64url(os.urandom(12)),
        "constraints": dict(constraints),
        **claims,
    }
    return sign_jws(payload, signer.private, {"typ": "paygod-mandate+jwt", "kid": signer.key_id})


def grant(kernel: Kernel, grantor: Party, agent: Party, constraints: Mapping[str, Any]) -> Mandate:
    return kernel.mandates.service.grant(
        "default",
        signed_grant(grantor, agent.principal_id, constraints),
        actor=grantor.principal_id,
        any_grantor=False,
    )


# -- AP2 -------------------------------------------------------------------------------


def disclosure(value: Any, name: str | None = None) -> tuple[str, str]:
    """(encoded disclosure, its digest): RFC 9901 §4.2.1 / §4.2.2."""
    salt = b64url(os.urandom(16))
    parts = [salt, value] if name is None else [salt, name, value]
    encoded = b64url(json.dumps(parts).encode())
    return encoded, sha256_b64url(encoded)


def sd_jwt(
    payload_item: Mapping[str, Any], private: Any, header: Mapping[str, Any], **claims: Any
) -> str:
    encoded, digest = disclosure(dict(payload_item))
    body = {"delegate_payload": [{"...": digest}], "_sd_alg": "sha-256", **claims}
    return f"{sign_jws(body, private, header)}~{encoded}~"


def open_payment_mandate(
    agent_jwk: Mapping[str, str],
    *,
    currency: str = "USD",
    max_minor: Any = 20000,
    budget: Any = None,
    merchants: tuple[str, ...] = ("merchant_1",),
    exp: int | None = None,
    iat: int | None = None,
    now: int | None = None,
) -> dict[str, Any]:
    now = now if now is not None else int(time.time())
    constraints: list[dict[str, Any]] = [
        {"type": "payment.amount_range", "currency": currency, "max": max_minor, "min": 0},
        {"type": "payment.allowed_payees", "allowed": [{"id": m, "name": m} for m in merchants]},
    ]
    if budget is not None:
        constraints.append({"type": "payment.budget", "max": budget, "currency": currency})
    return {
        "vct": "mandate.payment.open.1",
        "constraints": constraints,
        "cnf": {"jwk": dict(agent_jwk)},
        "iat": iat if iat is not None else now - 10,
        "exp": exp if exp is not None else now + 3600,
    }


def closed_payment_mandate(
    amount: Any = 19900, currency: str = "USD", payee: str = "merchant_1", tx: str = "tx-1"
) -> dict[str, Any]:
    return {
        "vct": "mandate.payment.1",
        "transaction_id": tx,
        "payee": {"id": payee, "name": "Demo Merchant"},
        "payment_amount": {"amount": amount, "currency": currency},
    }


def chain(
    root: Party,
    agent_private: Any,
    opened: Mapping[str, Any],
    closed: Mapping[str, Any] | None = None,
    *,
    aud: str = "paygod",
    nonce: str = "n-0123456789",
    iat: int | None = None,
    typ: str = "kb+sd-jwt",
    bind_to: str | None = None,
) -> str:
    first = sd_jwt(opened, root.private, {"typ": "example+sd-jwt", "kid": root.key_id})
    if closed is None or agent_private is None:
        return first
    hop = sd_jwt(
        closed,
        agent_private,
        {"typ": typ},
        iat=iat if iat is not None else int(time.time()),
        aud=aud,
        nonce=nonce,
        sd_hash=bind_to or sha256_b64url(first),
    )
    return first[:-1] + "~~" + hop
