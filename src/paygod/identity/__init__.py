"""Identity and access: tenants, principals, roles, API keys, tokens, MFA, consent, audit."""

from paygod.identity.consent import ConsentChecker, ConsentRegistry
from paygod.identity.model import (
    ApiKey,
    Authenticated,
    IssuedKey,
    Principal,
    PrincipalKind,
    Role,
    Tenant,
)
from paygod.identity.permissions import Scope, require_same_tenant
from paygod.identity.service import IdentityService

__all__ = [
    "ApiKey",
    "Authenticated",
    "ConsentChecker",
    "ConsentRegistry",
    "IdentityService",
    "IssuedKey",
    "Principal",
    "PrincipalKind",
    "Role",
    "Scope",
    "Tenant",
    "require_same_tenant",
]
