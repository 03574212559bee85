"""/v1/identity: principals, keys, sessions, TOTP, consent, access log.

Who may call what is decided by the global security dependency (identity/route_permissions.py);
handlers here only keep each principal inside its own tenant.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import Query, Request
from pydantic import Field

from paygod.api.models import Digits, NoNul, StrictModel, Visible
from paygod.api.receipts import sealing
from paygod.api.routing import router as strict_router
from paygod.api.schemas import identity as bodies
from paygod.api.schemas import success
from paygod.api.security import identity_of, tenant_filter
from paygod.identity.model import ALL_TENANTS, Principal, PrincipalKind, Role
from paygod.identity.permissions import require_same_tenant
from paygod.identity.service import parse_roles
from paygod.kernel.clock import isoformat, parse_instant
from paygod.kernel.errors import FieldError, Forbidden, InvalidInput, NotFound

router = strict_router(prefix="/identity", tags=["identity"])

Name = Annotated[str, Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9._@\-]+$")]
TenantId = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^([A-Za-z0-9._\-]+|\*)$")]


class TenantIn(StrictModel):
    tenant_id: TenantId
    name: Annotated[str, Field(max_length=200), NoNul] | None = None


class PrincipalIn(StrictModel):
    name: Name
    kind: PrincipalKind
    roles: list[Role] = Field(default_factory=list, max_length=6)
    tenant_id: TenantId | None = None
    external_id: Annotated[str, Field(max_length=500), NoNul] | None = None


class RolesIn(StrictModel):
    roles: list[Role] = Field(max_length=6)


class KeyIn(StrictModel):
    scopes: list[str] = Field(default_factory=list, max_length=50)
    expires_at: datetime | None = None


class RotateIn(StrictModel):
    grace_seconds: int = Field(default=0, ge=0, le=86_400)


class EnrolIn(StrictModel):
    enrolment_token: str = Field(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9_\-]+$")


class TotpCodeIn(StrictModel):
    code: str = Field(min_length=6, max_length=6, pattern=r"^[0-9]{6}$")


class ConsentIn(StrictModel):
    subject: Annotated[str, Field(min_length=5, max_length=256), NoNul, Visible]
    purpose: str = Field(min_length=1, max_length=100, pattern=r"^[a-z0-9_.\-]+$")
    granted: bool = True
    evidence: Annotated[str, Field(max_length=500), NoNul] | None = None
    tenant_id: TenantId | None = None


def _me(request: Request) -> Principal:
    principal: Principal = request.state.principal
    return principal


def _target_tenant(request: Request, wanted: str | None) -> str:
    """A tenant admin acts in its own tenant; a platform admin names the tenant."""
    me = _me(request)
    if me.tenant_id != ALL_TENANTS:
        if wanted not in (None, me.tenant_id):
            raise Forbidden("you can only act in your own tenant")
        return me.tenant_id
    if wanted is None:
        raise InvalidInput(
            "platform admins must name the tenant",
            errors=[FieldError("/tenant_id", "required")],
        )
    return wanted


def _visible_principal(request: Request, principal_id: str) -> Principal:
    found = identity_of(request).get_principal(principal_id)
    if found is None:
        raise NotFound("no such principal")
    require_same_tenant(_me(request), found.tenant_id, "principal")
    return found


def _no_escalation(request: Request, roles: frozenset[Role]) -> None:
    if Role.PLATFORM_ADMIN in roles and not _me(request).is_platform_admin:
        raise Forbidden("only platform admins grant platform_admin")


@router.get(
    "/me",
    summary="The authenticated principal",
    responses=success(bodies.Me),
)
def me(request: Request) -> dict[str, Any]:
    identity = identity_of(request)
    principal = _me(request)
    return {
        **principal.as_dict(),
        "authenticated_by": request.state.auth.method,
        "totp_enrolled": identity.totp.enrolled(principal.principal_id),
    }


@router.post(
    "/sessions",
    status_code=201,
    summary="Exchange credentials for a short-lived JWT",
    responses=success(bodies.Session, status=201),
)
def create_session(request: Request) -> dict[str, Any]:
    return identity_of(request).issue_session(request.state.auth)


@router.post(
    "/me/totp",
    status_code=201,
    summary="Start TOTP enrolment (otpauth URI)",
    responses=success(bodies.TotpEnrolment, status=201),
)
def enroll_totp(request: Request, body: EnrolIn | None = None) -> dict[str, str]:
    identity = identity_of(request)
    me = _me(request)
    secret, uri = identity.totp.enroll(me, body.enrolment_token if body else None)
    identity.audit.record(
        "audit.totp_enrolment",
        tenant_id=me.tenant_id,
        principal_id=me.principal_id,
        action="totp:enrol",
        target=f"principal:{me.principal_id}",
    )
    return {"secret": secret, "otpauth_uri": uri}


@router.post(
    "/me/totp/confirm",
    summary="Confirm TOTP enrolment with a first code",
    responses=success(bodies.TotpConfirmed),
)
def confirm_totp(request: Request, body: TotpCodeIn) -> dict[str, bool]:
    if not identity_of(request).totp.confirm(_me(request).principal_id, body.code):
        raise InvalidInput("wrong TOTP code", errors=[FieldError("/code", "does not match")])
    return {"enrolled": True}


@router.get(
    "/tenants",
    summary="Tenants you can see",
    responses=success(bodies.Tenants),
)
def list_tenants(request: Request) -> dict[str, Any]:
    only = tenant_filter(request)
    tenants = [t for t in identity_of(request).list_tenants() if only in (None, t.tenant_id)]
    return {"tenants": [t.as_dict() for t in tenants]}


@router.post(
    "/tenants",
    status_code=201,
    summary="Create a tenant (platform admins)",
    responses=success(bodies.SealedTenant, status=201),
)
@sealing
def create_tenant(request: Request, body: TenantIn) -> dict[str, Any]:
    if body.tenant_id == ALL_TENANTS:
        raise InvalidInput("'*' is reserved", errors=[FieldError("/tenant_id", "reserved")])
    created = identity_of(request).create_tenant(
        body.tenant_id, body.name, actor=_me(request).principal_id
    )
    return created.as_dict()


@router.get(
    "/principals",
    summary="Principals of your tenant",
    responses=success(bodies.Principals),
)
def list_principals(
    request: Request, kind: Annotated[PrincipalKind | None, Query()] = None
) -> dict[str, Any]:
    found = identity_of(request).list_principals(tenant_filter(request), kind)
    return {"principals": [p.as_dict() for p in found]}


@router.post(
    "/principals",
    status_code=201,
    summary="Create a user, agent or service account",
    responses=success(bodies.SealedPrincipal, status=201),
)
@sealing
def create_principal(request: Request, body: PrincipalIn) -> dict[str, Any]:
    roles = frozenset(body.roles)
    _no_escalation(request, roles)
    tenant = _target_tenant(request, body.tenant_id)
    created = identity_of(request).create_principal(
        tenant,
        body.name,
        body.kind,
        roles,
        external_id=body.external_id,
        created_by=_me(request).principal_id,
    )
    return created.as_dict()


@router.get(
    "/principals/{principal_id}",
    summary="One principal",
    responses=success(bodies.Principal),
)
def get_principal(request: Request, principal_id: str) -> dict[str, Any]:
    return _visible_principal(request, principal_id).as_dict()


@router.put(
    "/principals/{principal_id}/roles",
    summary="Replace a principal's roles",
    responses=success(bodies.SealedPrincipal),
)
@sealing
def set_roles(request: Request, principal_id: str, body: RolesIn) -> dict[str, Any]:
    target = _visible_principal(request, principal_id)
    roles = parse_roles(r.value for r in body.roles)
    _no_escalation(request, roles)
    updated = identity_of(request).set_roles(
        target.principal_id, roles, actor=_me(request).principal_id
    )
    return updated.as_dict()


@router.post(
    "/principals/{principal_id}/disable",
    summary="Disable a principal and its keys",
    responses=success(bodies.SealedPrincipal),
)
@sealing
def disable_principal(request: Request, principal_id: str) -> dict[str, Any]:
    target = _visible_principal(request, principal_id)
    disabled = identity_of(request).set_disabled(
        target.principal_id, True, actor=_me(request).principal_id
    )
    return disabled.as_dict()


@router.post(
    "/principals/{principal_id}/keys",
    status_code=201,
    summary="Issue an API key (shown once)",
    responses=success(bodies.SealedIssuedKey, status=201),
)
@sealing
def issue_key(request: Request, principal_id: str, body: KeyIn) -> dict[str, Any]:
    target = _visible_principal(request, principal_id)
    if target.is_platform_admin and not _me(request).is_platform_admin:
        raise Forbidden("only platform admins issue platform admin keys")
    issued = identity_of(request).issue_key(
        target.principal_id,
        scopes=body.scopes,
        expires_at=body.expires_at,
        actor=_me(request).principal_id,
    )
    return issued.as_dict()


@router.post(
    "/principals/{principal_id}/totp-enrolment",
    status_code=201,
    summary="Reset a principal's TOTP and issue a one-time enrolment token (shown once)",
    responses=success(bodies.EnrolmentToken, status=201),
)
def issue_totp_enrolment(request: Request, principal_id: str) -> dict[str, Any]:
    identity = identity_of(request)
    target = _visible_principal(request, principal_id)
    me = _me(request)
    if target.is_platform_admin and not me.is_platform_admin:
        raise Forbidden("only platform admins reset a platform admin's second factor")
    token, expires = identity.totp.issue_enrolment(target, issued_by=me.principal_id)
    identity.audit.record(
        "audit.totp_reset",
        tenant_id=target.tenant_id,
        principal_id=me.principal_id,
        action="totp:reset",
        target=f"principal:{target.principal_id}",
    )
    return {
        "principal_id": target.principal_id,
        "enrolment_token": token,
        "expires_at": isoformat(expires),
    }


@router.get(
    "/keys",
    summary="API keys of your tenant (never their secrets)",
    responses=success(bodies.ApiKeys),
)
def list_keys(
    request: Request, principal_id: Annotated[str | None, Query(max_length=64)] = None
) -> dict[str, Any]:
    found = identity_of(request).list_keys(
        principal_id=principal_id, tenant_id=tenant_filter(request)
    )
    return {"keys": [k.as_dict() for k in found]}


def _visible_key(request: Request, key_id: str) -> str:
    found = identity_of(request).get_key(key_id)
    if found is None:
        raise NotFound("no such key")
    require_same_tenant(_me(request), found.tenant_id, "key")
    return found.key_id


@router.post(
    "/keys/{key_id}/rotate",
    status_code=201,
    summary="Rotate a key (new one shown once)",
    responses=success(bodies.SealedIssuedKey, status=201),
)
@sealing
def rotate_key(request: Request, key_id: str, body: RotateIn | None = None) -> dict[str, Any]:
    grace = body.grace_seconds if body else 0
    issued = identity_of(request).rotate_key(
        _visible_key(request, key_id), grace_seconds=grace, actor=_me(request).principal_id
    )
    return issued.as_dict()


@router.delete(
    "/keys/{key_id}",
    summary="Revoke a key, effective immediately",
    responses=success(bodies.SealedApiKey),
)
@sealing
def revoke_key(request: Request, key_id: str) -> dict[str, Any]:
    revoked = identity_of(request).revoke_key(
        _visible_key(request, key_id), actor=_me(request).principal_id
    )
    return revoked.as_dict()


@router.post("/consents", status_code=201, summary="Record a data subject's consent")
@sealing
def record_consent(request: Request, body: ConsentIn) -> dict[str, Any]:
    tenant = _target_tenant(request, body.tenant_id)
    record = identity_of(request).consent.record(
        tenant,
        body.subject,
        body.purpose,
        granted=body.granted,
        actor=_me(request).principal_id,
        evidence=body.evidence,
    )
    return record.as_dict()


@router.get(
    "/consents/{subject}",
    summary="A data subject's consent per purpose",
    responses=success(bodies.Consents),
)
def get_consents(
    request: Request,
    subject: Annotated[str, Visible],
    tenant_id: Annotated[str | None, Query(max_length=64)] = None,
) -> dict[str, Any]:
    tenant = _target_tenant(request, tenant_id)
    consent = identity_of(request).consent
    return {
        "subject": subject,
        "purposes": {p: r.as_dict() for p, r in consent.current(tenant, subject).items()},
        "history": [r.as_dict() for r in consent.history(tenant, subject)],
    }


@router.delete("/consents/{subject}/{purpose}", summary="Revoke consent for one purpose")
@sealing
def revoke_consent(
    request: Request,
    subject: Annotated[str, Visible],
    purpose: str,
    tenant_id: Annotated[str | None, Query(max_length=64)] = None,
) -> dict[str, Any]:
    tenant = _target_tenant(request, tenant_id)
    record = identity_of(request).consent.record(
        tenant, subject, purpose, granted=False, actor=_me(request).principal_id
    )
    return record.as_dict()


@router.get(
    "/access-log",
    summary="Access audit: who read what, when and why",
    responses=success(bodies.AccessLog),
)
def access_log(
    request: Request,
    since: Annotated[str, Query(description="ISO 8601 instant")],
    limit: Annotated[int, Digits, Query(ge=1, le=1000)] = 100,
) -> dict[str, Any]:
    try:
        instant = parse_instant(since)
    except ValueError:
        raise InvalidInput(
            "since must be an ISO 8601 instant", errors=[FieldError("#query/since", "invalid")]
        ) from None
    found = identity_of(request).audit.since(instant, tenant_id=tenant_filter(request), limit=limit)
    return {"records": [r.as_dict() for r in found]}
