"""The permission matrix: which role may do what, and over whose objects.

One declarative table. `own` means the principal's own objects (an agent's own payments);
`all` means every object of the principal's tenant; platform admins act in every tenant.
Handlers never test roles; they ask `grant(roles, permission)` (done once, globally, by the
API security dependency) and scope their queries with the returned `Scope`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from enum import StrEnum

from paygod.identity.model import ALL_TENANTS, Principal, Role
from paygod.kernel.errors import NotFound


class Scope(StrEnum):
    OWN = "own"
    ALL = "all"


PERMISSIONS: tuple[str, ...] = (
    "ledger:read",
    "ledger:verify",
    # The shared tree's own size and roots (global head, consistency proofs): every
    # tenant's activity volume over time, so platform admins only (docs/security-ledger.md).
    "ledger:global",
    "evidence:read",
    "decisions:create",
    "decisions:read",
    "packs:read",
    "packs:activate",
    "payments:create",
    "payments:read",
    "payments:approve",
    "accounts:read",
    "accounts:write",
    "executor:read",
    "executor:operate",
    "panic:read",
    "panic:write",
    "identity:read",
    "identity:manage",
    "consent:read",
    "consent:write",
    "cases:read",
    "cases:write",
    "risk:read",
    "reports:read",
    "audit:read",
    "tenants:manage",
    "credits:use",
    "credit:apply",
    "credit:read",
    "credit:repay",
    "credit:operate",
    "credit:write-off",
    "actions:read",
    "actions:manage",
    "actions:approve",
    "screening:create",
    "screening:read",
    "sanctions:manage",
    "kyc:read",
    "kyc:write",
    "contauth:read",
    "contauth:manage",
    # Decrypted personal data and its destruction: compliance officers (docs/privacy.md).
    "privacy:write",
    "privacy:export",
    "privacy:erase",
    "privacy:hold",
    "retention:read",
    "retention:manage",
    # SOX/PCI DSS/GDPR reports (docs/assurance.md): auditors and compliance officers.
    "compliance:report",
    "mandates:read",
    "mandates:grant",
    "mandates:revoke",
    "mandates:keys",
    "aml:read",
    "aml:manage",
    "notifications:read",
    "notifications:manage",
    # Every principal reads (and marks read) its own in-app messages only.
    "inbox:read",
    "documents:read",
    "documents:write",
    # A download is sealed per read (docs/documents.md): KYC files are personal data.
    "documents:download",
)

_READS = {p for p in PERMISSIONS if p.endswith((":read", ":verify"))}

ROLE_PERMISSIONS: Mapping[Role, Mapping[str, Scope]] = {
    Role.AGENT: {
        "decisions:create": Scope.OWN,
        "decisions:read": Scope.OWN,
        "payments:create": Scope.OWN,
        "payments:read": Scope.OWN,
        "accounts:read": Scope.OWN,
        "packs:read": Scope.ALL,
        "credits:use": Scope.OWN,
        "credit:apply": Scope.OWN,
        "credit:read": Scope.OWN,
        "credit:repay": Scope.OWN,
        "contauth:read": Scope.OWN,
        # An agent sees the mandates granted to it, registers its own keys (holder binding,
        # RFC 9421 request signatures) and may give up a mandate it holds.
        "mandates:read": Scope.OWN,
        "mandates:keys": Scope.OWN,
        "mandates:revoke": Scope.OWN,
        "inbox:read": Scope.OWN,
    },
    Role.OPERATOR: {
        "inbox:read": Scope.OWN,
        "notifications:read": Scope.ALL,
        "executor:read": Scope.ALL,
        "executor:operate": Scope.ALL,
        "panic:read": Scope.ALL,
        "panic:write": Scope.ALL,
        "payments:read": Scope.ALL,
        "decisions:read": Scope.ALL,
        "packs:read": Scope.ALL,
        "ledger:verify": Scope.ALL,
        "actions:read": Scope.ALL,
        # A human operator grants mandates signed with their own key, and revokes them.
        "mandates:read": Scope.OWN,
        "mandates:grant": Scope.OWN,
        "mandates:revoke": Scope.OWN,
        "mandates:keys": Scope.OWN,
    },
    Role.ADMIN: {
        **{p: Scope.ALL for p in _READS},
        "identity:manage": Scope.ALL,
        "consent:write": Scope.ALL,
        "accounts:write": Scope.ALL,
        "packs:activate": Scope.ALL,
        "decisions:create": Scope.ALL,
        "actions:manage": Scope.ALL,
        "actions:approve": Scope.ALL,
        "payments:create": Scope.ALL,
        "credits:use": Scope.ALL,
        "credit:apply": Scope.ALL,
        "screening:create": Scope.ALL,
        "sanctions:manage": Scope.ALL,
        "kyc:write": Scope.ALL,
        "privacy:write": Scope.ALL,
        "aml:manage": Scope.ALL,
        "credit:repay": Scope.ALL,
        "credit:operate": Scope.ALL,
        "credit:write-off": Scope.ALL,
        "contauth:manage": Scope.ALL,
        "mandates:grant": Scope.ALL,
        "mandates:revoke": Scope.ALL,
        "mandates:keys": Scope.ALL,
        "notifications:manage": Scope.ALL,
        "inbox:read": Scope.OWN,
        "documents:write": Scope.ALL,
        "documents:download": Scope.ALL,
    },
    # Reads everything in its tenant, writes nothing.
    Role.AUDITOR: {
        **{p: Scope.ALL for p in _READS},
        "compliance:report": Scope.ALL,
        "inbox:read": Scope.OWN,
        "documents:download": Scope.ALL,
    },
    Role.COMPLIANCE_OFFICER: {
        **{p: Scope.ALL for p in _READS},
        "cases:write": Scope.ALL,
        "payments:approve": Scope.ALL,
        "actions:approve": Scope.ALL,
        "consent:write": Scope.ALL,
        "screening:create": Scope.ALL,
        "sanctions:manage": Scope.ALL,
        "kyc:write": Scope.ALL,
        "privacy:write": Scope.ALL,
        "privacy:export": Scope.ALL,
        "privacy:erase": Scope.ALL,
        "privacy:hold": Scope.ALL,
        "retention:manage": Scope.ALL,
        "compliance:report": Scope.ALL,
        "mandates:revoke": Scope.ALL,
        "aml:manage": Scope.ALL,
        "inbox:read": Scope.OWN,
        "documents:write": Scope.ALL,
        "documents:download": Scope.ALL,
    },
    Role.PLATFORM_ADMIN: {p: Scope.ALL for p in PERMISSIONS},
}

# Admin actions that need a fresh second factor (X-Paygod-TOTP) from a human.
# A checker's approval moves money: a human approves with a fresh code too. An erasure
# destroys a subject's key for good: a human erases with a fresh code too.
STEP_UP: frozenset[str] = frozenset(
    {"panic:write", "identity:manage", "packs:activate", "payments:approve", "privacy:erase"}
)

# What a session whose continuous-authentication trust fell below its tenant's step-up
# threshold may do only after a fresh second factor (docs/contauth.md): moving money,
# changing who may do what, and the step-up actions themselves.
SENSITIVE: frozenset[str] = STEP_UP | frozenset(
    {
        "payments:create",
        "accounts:write",
        "actions:approve",
        "actions:manage",
        "consent:write",
        "credit:apply",
        "credit:operate",
        "credit:write-off",
        "kyc:write",
        "sanctions:manage",
        "contauth:manage",
    }
)

# Reads that are themselves audited when a human makes them.
AUDITED_READS: frozenset[str] = frozenset(
    {
        "ledger:read",
        "evidence:read",
        "reports:read",
        "audit:read",
        "privacy:export",
        "compliance:report",
    }
)


def grant(roles: Iterable[Role], permission: str) -> Scope | None:
    """The widest scope any of `roles` gives for `permission`; None when none allows it."""
    best: Scope | None = None
    for role in roles:
        scope = ROLE_PERMISSIONS.get(role, {}).get(permission)
        if scope is Scope.ALL:
            return Scope.ALL
        if scope is Scope.OWN:
            best = Scope.OWN
    return best


def scope_allows(scopes: Iterable[str], permission: str) -> bool:
    """An API key's own scopes narrow its principal's roles: `ledger:read`, `ledger:*`, `*`."""
    scopes = tuple(scopes)
    if not scopes:
        return True
    family = permission.split(":", 1)[0] + ":*"
    return any(s in {"*", permission, family} for s in scopes)


def can_see_tenant(principal: Principal, tenant_id: str) -> bool:
    return principal.tenant_id in {ALL_TENANTS, tenant_id}


def require_same_tenant(principal: Principal, tenant_id: str, what: str = "object") -> None:
    """Raise NotFound for another tenant's object: its existence must not leak (never 403).
    Use the same `what` as your handler's own not-found message so both read alike."""
    if not can_see_tenant(principal, tenant_id):
        raise NotFound(f"no such {what}")


def require_own(
    principal: Principal, scope: Scope | None, owner_id: str | None, what: str = "object"
) -> None:
    """Under scope `own`, another principal's object is as invisible as another tenant's."""
    if scope is Scope.OWN and owner_id != principal.principal_id:
        raise NotFound(f"no such {what}")
