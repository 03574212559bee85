"""Mandates over HTTP: register a signing key, grant (native, signed by the grantor),
import (AP2 v0.2), list, show (as of a past instant), revoke."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from paygod.api.deps import get_kernel
from paygod.api.models import NoNul, StrictModel
from paygod.api.receipts import sealing
from paygod.api.routers.admin import principal_id
from paygod.api.routers.payments import tenant_of, tenant_scope
from paygod.api.routing import router as strict_router
from paygod.api.security import owner_filter
from paygod.bootstrap import Kernel
from paygod.kernel.errors import NotFound
from paygod.mandates.model import Mandate

router = strict_router(prefix="/mandates", tags=["mandates"])


class RegisterKey(StrictModel):
    key_id: Annotated[str, Field(min_length=1, max_length=200), NoNul]
    jwk: dict[str, Any] = Field(description="Public JWK: OKP Ed25519 or EC P-256")
    principal_id: Annotated[str, Field(max_length=200), NoNul] | None = Field(
        default=None, description="Whose key (default: the caller; another's needs scope all)"
    )


class Grant(StrictModel):
    # A signed mandate is a JWS on purpose: bound to its grantee, sealed whole as evidence
    # (docs/mandates.md), not a bearer secret; the credential check would refuse it as a JWT.
    credentials = ("/grant",)
    grant: Annotated[str, Field(min_length=1, max_length=64_000)] = Field(
        description="Compact JWS (typ paygod-mandate+jwt) signed by the grantor: docs/mandates.md"
    )


class Import(StrictModel):
    # An AP2 SD-JWT credential with key binding: evidence to seal, useless without the
    # holder's key (see Grant).
    credentials = ("/credential",)
    credential: Annotated[str, Field(min_length=1, max_length=64_000)] = Field(
        description="AP2 v0.2 credential chain (hops joined by ~~)"
    )
    audience: Annotated[str, Field(max_length=500), NoNul] | None = None
    nonce: Annotated[str, Field(max_length=500), NoNul] | None = None
    grantee: Annotated[str, Field(max_length=200), NoNul] | None = None


class Revoke(StrictModel):
    reason: Annotated[str, Field(max_length=500), NoNul] | None = None


class KeyOut(BaseModel):
    tenant_id: str
    principal_id: str
    key_id: str
    jwk: dict[str, str]
    thumbprint: str
    registered_at: str


class KeyList(BaseModel):
    keys: list[KeyOut]


class MandateOut(BaseModel):
    model_config = ConfigDict(extra="allow")

    mandate_id: str
    tenant_id: str
    grantor: str
    grantee: str
    kind: str
    mode: str
    form: str
    status: str
    digest: str
    constraints: dict[str, Any]
    allowance: dict[str, Any] = Field(description="remaining_minor, period, payments_left")


class MandateList(BaseModel):
    mandates: list[MandateOut]


def _visible(
    request: Request, kernel: Kernel, mandate_id: str, as_of: str | None = None
) -> Mandate:
    mandate = kernel.mandates.service.get(mandate_id, tenant_scope(request, kernel), as_of)
    owner = owner_filter(request)
    if owner is not None and owner not in (mandate.grantor, mandate.grantee):
        raise NotFound(f"no mandate {mandate_id}")
    return mandate


@router.post("/keys", status_code=201, summary="Register a public key of a principal")
@sealing
def register_key(
    body: RegisterKey, request: Request, kernel: Kernel = Depends(get_kernel)
) -> dict[str, Any]:
    actor = principal_id(request)
    owner = owner_filter(request)
    whose = body.principal_id or actor
    if owner is not None and whose != owner:
        raise NotFound(f"no principal {whose}")  # scope own: your own keys only
    key = kernel.mandates.service.register_key(
        tenant_of(request, kernel),
        principal_id=whose,
        key_id=body.key_id,
        jwk=body.jwk,
        actor=actor,
    )
    return key.as_dict()


@router.get("/keys", summary="Registered keys of a principal (default: the caller)")
def list_keys(
    request: Request,
    principal: Annotated[str | None, Query(max_length=200)] = None,
    kernel: Kernel = Depends(get_kernel),
) -> KeyList:
    owner = owner_filter(request)
    whose = owner or principal or principal_id(request)
    found = kernel.mandates.service.keys.of_principal(tenant_of(request, kernel), whose)
    return KeyList(keys=[KeyOut(**k.as_dict()) for k in found])


@router.post("", status_code=201, summary="Grant a mandate signed by its human grantor")
@sealing
def grant(body: Grant, request: Request, kernel: Kernel = Depends(get_kernel)) -> dict[str, Any]:
    service = kernel.mandates.service
    mandate = service.grant(
        tenant_of(request, kernel),
        body.grant,
        actor=principal_id(request),
        any_grantor=owner_filter(request) is None,
    )
    return service.view(mandate)


@router.post("/import", status_code=201, summary="Import an AP2 v0.2 mandate credential")
@sealing
def import_ap2(
    body: Import, request: Request, kernel: Kernel = Depends(get_kernel)
) -> dict[str, Any]:
    service = kernel.mandates.service
    mandate = service.import_ap2(
        tenant_of(request, kernel),
        body.credential,
        audience=body.audience,
        nonce=body.nonce,
        grantee=body.grantee,
        actor=principal_id(request),
    )
    return service.view(mandate)


@router.get("", summary="Mandates of the tenant (an agent: those granted to it)")
def list_mandates(
    request: Request,
    grantee: Annotated[str | None, Query(max_length=200)] = None,
    kernel: Kernel = Depends(get_kernel),
) -> MandateList:
    service = kernel.mandates.service
    owner = owner_filter(request)
    found = [
        m
        for m in service.list(tenant_scope(request, kernel), grantee)
        if owner is None or owner in (m.grantor, m.grantee)
    ]
    return MandateList(mandates=[MandateOut(**service.view(m)) for m in found])


@router.get("/{mandate_id}", summary="A mandate and what remains of it; `as_of` reads the past")
def show(
    mandate_id: str,
    request: Request,
    as_of: Annotated[str | None, Query(max_length=64)] = None,
    kernel: Kernel = Depends(get_kernel),
) -> MandateOut:
    mandate = _visible(request, kernel, mandate_id, as_of)
    return MandateOut(**kernel.mandates.service.view(mandate))


@router.post("/{mandate_id}/revoke", summary="Revoke now: payments in flight are stopped")
@sealing
def revoke(
    mandate_id: str, body: Revoke, request: Request, kernel: Kernel = Depends(get_kernel)
) -> dict[str, Any]:
    service = kernel.mandates.service
    _visible(request, kernel, mandate_id)
    mandate = service.revoke(
        mandate_id,
        tenant_id=tenant_scope(request, kernel),
        actor=principal_id(request),
        any_mandate=True,  # _visible already limited scope own to the grantor or grantee
        reason=body.reason,
    )
    return service.view(mandate)
