"""Tenants, principals, API keys: frozen records, no I/O."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from paygod.kernel.clock import isoformat

ALL_TENANTS = "*"  # the tenant of platform admins: they act across tenants


class PrincipalKind(StrEnum):
    HUMAN = "human"
    AGENT = "agent"
    SERVICE = "service"


class Role(StrEnum):
    AGENT = "agent"
    OPERATOR = "operator"
    ADMIN = "admin"
    AUDITOR = "auditor"
    COMPLIANCE_OFFICER = "compliance_officer"
    PLATFORM_ADMIN = "platform_admin"


@dataclass(frozen=True, slots=True)
class Tenant:
    tenant_id: str
    name: str
    created_at: datetime

    def as_dict(self) -> dict[str, Any]:
        return {
            "tenant_id": self.tenant_id,
            "name": self.name,
            "created_at": isoformat(self.created_at),
        }


@dataclass(frozen=True, slots=True)
class Principal:
    """A human, an agent or a service account, in exactly one tenant (or `*`)."""

    principal_id: str
    tenant_id: str
    kind: PrincipalKind
    name: str
    roles: frozenset[Role]
    created_at: datetime
    disabled: bool = False
    external_id: str | None = None  # "oidc:<sub>" or "cert:<subject DN>", unique per tenant
    # Who created it (a principal id; None: from the host, e.g. `paygod init`): maker-checker
    # does not count a principal the maker created as the second person.
    created_by: str | None = None

    @property
    def is_platform_admin(self) -> bool:
        return Role.PLATFORM_ADMIN in self.roles

    @property
    def is_human(self) -> bool:
        return self.kind is PrincipalKind.HUMAN

    def as_dict(self) -> dict[str, Any]:
        return {
            "principal_id": self.principal_id,
            "tenant_id": self.tenant_id,
            "kind": self.kind.value,
            "name": self.name,
            "roles": sorted(r.value for r in self.roles),
            "created_at": isoformat(self.created_at),
            "disabled": self.disabled,
            "external_id": self.external_id,
            "created_by": self.created_by,
        }


@dataclass(frozen=True, slots=True)
class ApiKey:
    """The stored side of a key: never the secret, only its hash."""

    key_id: str
    prefix: str
    principal_id: str
    tenant_id: str
    scopes: tuple[str, ...]
    created_at: datetime
    expires_at: datetime | None = None
    revoked_at: datetime | None = None
    last_used_at: datetime | None = None
    rotated_from: str | None = None  # the key this one replaced

    def active(self, now: datetime) -> bool:
        if self.revoked_at is not None and self.revoked_at <= now:
            return False
        return self.expires_at is None or now < self.expires_at

    def as_dict(self) -> dict[str, Any]:
        def opt(value: datetime | None) -> str | None:
            return isoformat(value) if value else None

        return {
            "key_id": self.key_id,
            "prefix": self.prefix,
            "principal_id": self.principal_id,
            "tenant_id": self.tenant_id,
            "scopes": list(self.scopes),
            "created_at": isoformat(self.created_at),
            "expires_at": opt(self.expires_at),
            "revoked_at": opt(self.revoked_at),
            "last_used_at": opt(self.last_used_at),
            "rotated_from": self.rotated_from,
        }


@dataclass(frozen=True, slots=True)
class IssuedKey:
    """A freshly issued key: the only moment the full token exists outside its owner."""

    key: ApiKey
    token: str

    def as_dict(self) -> dict[str, Any]:
        return {**self.key.as_dict(), "api_key": self.token}


@dataclass(frozen=True, slots=True)
class Authenticated:
    """Who made this request and how they proved it."""

    principal: Principal
    method: str  # api_key | session | oidc | mtls
    scopes: tuple[str, ...] = ()  # empty: everything the roles allow
    key_id: str | None = None  # the API key behind it (directly, or behind a session)
    claims: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ConsentRecord:
    consent_id: str
    tenant_id: str
    subject: str
    purpose: str
    granted: bool
    recorded_at: datetime
    recorded_by: str
    evidence: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "consent_id": self.consent_id,
            "tenant_id": self.tenant_id,
            "subject": self.subject,
            "purpose": self.purpose,
            "status": "granted" if self.granted else "revoked",
            "recorded_at": isoformat(self.recorded_at),
            "recorded_by": self.recorded_by,
            "evidence": self.evidence,
        }


@dataclass(frozen=True, slots=True)
class AccessRecord:
    event_id: str
    event_type: str
    tenant_id: str
    principal_id: str | None
    action: str
    target: str
    reason: str | None
    outcome: str
    occurred_at: datetime

    def as_dict(self) -> dict[str, Any]:
        return {
            "event_id": self.event_id,
            "event_type": self.event_type,
            "tenant_id": self.tenant_id,
            "principal_id": self.principal_id,
            "action": self.action,
            "target": self.target,
            "reason": self.reason,
            "outcome": self.outcome,
            "occurred_at": isoformat(self.occurred_at),
        }


@dataclass(frozen=True, slots=True)
class SigningKey:
    """The session signing key as stored: its PEM sealed under the key-encryption key (or,
    in a store written before sealing, still plain)."""

    key_id: str
    private_pem: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class TotpFactor:
    """A principal's TOTP secret (sealed), whether a first code confirmed it, and the last
    accepted time-step counter (a code is accepted once: RFC 6238 section 5.2)."""

    principal_id: str
    secret: str
    confirmed: bool
    created_at: datetime
    last_counter: int | None = None


@dataclass(frozen=True, slots=True)
class EnrolmentToken:
    """A one-time TOTP enrolment token, kept only as its SHA-256."""

    token_hash: str
    principal_id: str
    tenant_id: str
    issued_by: str | None
    created_at: datetime
    expires_at: datetime
    used_at: datetime | None = None
