"""Operator controls: the panic switches (freeze side effects; decisions continue).

Each tenant's operators move their own tenant's switch; only platform admins read or move
the platform-wide one (docs/security.md, "Panic switch").
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request

from paygod.api.deps import get_kernel
from paygod.api.models import NoNul, StrictModel
from paygod.api.receipts import sealing
from paygod.api.routing import router as strict_router
from paygod.api.schemas import admin as bodies
from paygod.api.schemas import success
from paygod.api.security import identity_of
from paygod.bootstrap import Kernel
from paygod.identity.model import ALL_TENANTS
from paygod.kernel.errors import FieldError, InvalidInput, NotFound
from paygod.kernel.identifiers import identifier_problem

router = strict_router(prefix="/admin", tags=["admin"])

PRINCIPAL_HEADER = "x-paygod-principal"
TENANT_HEADER = "x-paygod-tenant"


def principal_id(request: Request) -> str:
    """Who is acting. The one place this is read: identity's authenticated principal when
    it set one, else the `X-Paygod-Principal` header (a stand-in for unauthenticated
    set-ups), else 'anonymous'."""
    principal = getattr(request.state, "principal", None)
    if principal is not None:
        return str(getattr(principal, "principal_id", principal))
    return request.headers.get(PRINCIPAL_HEADER) or "anonymous"


# Who is acting, as a route parameter.
Caller = Annotated[str, Depends(principal_id)]


class PanicChange(StrictModel):
    on: bool
    reason: Annotated[str, NoNul] | None = None


def panic_tenant(request: Request) -> str | None:
    """Whose switch the caller reads and moves: its own tenant's. A platform admin's is the
    platform-wide switch (None), or the tenant it names with X-Paygod-Tenant. A tenant
    naming another tenant gets the 404 of a tenant that does not exist."""
    principal = getattr(request.state, "principal", None)
    own = getattr(principal, "tenant_id", None)
    chosen = request.headers.get(TENANT_HEADER)
    if isinstance(own, str) and own != ALL_TENANTS:
        if chosen is not None and chosen != own:
            raise NotFound(f"no tenant {chosen!r}")
        return own
    if chosen is None:
        return None
    problem = identifier_problem(chosen) if chosen != ALL_TENANTS else "is every tenant"
    if problem:
        raise InvalidInput(
            "X-Paygod-Tenant is not a tenant id",
            errors=[FieldError("#header/x-paygod-tenant", problem)],
        )
    kernel = request.app.state.kernel
    known = chosen == kernel.settings.tenant or principal is None
    if not known and identity_of(request).get_tenant(chosen) is None:
        raise NotFound(f"no tenant {chosen!r}")
    return chosen


def panic_view(kernel: Kernel, tenant_id: str | None) -> dict[str, Any]:
    """A switch as its owner may see it. A tenant sees its own switch and whether the
    platform's is on, never the platform's reason or actor, nor another tenant's."""
    platform = kernel.panic.status()
    if tenant_id is None:
        return {
            **platform.as_dict(),
            "scope": "platform",
            "frozen_tenants": sorted(kernel.panic.frozen_tenants()),
        }
    own = kernel.panic.status(tenant_id)
    return {
        **own.as_dict(),
        "scope": "tenant",
        "frozen": own.on or platform.on,
        "platform": {
            "on": platform.on,
            "since": platform.as_dict()["since"] if platform.on else None,
        },
    }


@router.get(
    "/panic",
    summary="Is the panic switch on? (the caller's tenant's, or the platform's)",
    responses=success(bodies.PanicView),
)
def panic_status(request: Request, kernel: Kernel = Depends(get_kernel)) -> dict[str, Any]:
    return panic_view(kernel, panic_tenant(request))


@router.post(
    "/panic",
    summary="Turn the panic switch on (with a reason) or off: the caller's tenant's, or "
    "for a platform admin the platform's (or the tenant named by X-Paygod-Tenant)",
)
@sealing
def panic_change(
    body: PanicChange, request: Request, kernel: Kernel = Depends(get_kernel)
) -> dict[str, Any]:
    actor = principal_id(request)
    tenant = panic_tenant(request)
    if body.on:
        if not body.reason or not body.reason.strip():
            raise InvalidInput(
                "a reason is required to turn the panic switch on",
                errors=[FieldError("/reason", "required when on is true")],
            )
        kernel.panic.turn_on(body.reason, actor, tenant)
    else:
        kernel.panic.turn_off(actor, tenant)
    return panic_view(kernel, tenant)
