"""Continuous authentication over HTTP: a session's signals, its trust, the tenant's
thresholds and the principals' models (docs/contauth.md)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Path, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from paygod.api.deps import get_kernel
from paygod.api.models import StrictModel
from paygod.api.receipts import sealing
from paygod.api.routers.admin import principal_id
from paygod.api.routers.payments import tenant_of, tenant_scope
from paygod.api.routing import router as strict_router
from paygod.api.security import owner_filter
from paygod.bootstrap import Kernel
from paygod.contauth.model import Thresholds
from paygod.identity.model import Principal
from paygod.identity.permissions import can_see_tenant
from paygod.kernel.clock import parse_instant
from paygod.kernel.errors import FieldError, InvalidInput, NotFound

router = strict_router(tags=["contauth"])
SessionId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]


class SignalBatch(StrictModel):
    """Derived behavioural signals only: timings keyed by key-position labels, pointer
    movement summaries, device attributes (hashed on arrival). Never keys' text."""

    keystrokes: list[dict[str, Any]] = Field(default_factory=list)
    pointer: list[dict[str, Any]] = Field(default_factory=list)
    device: dict[str, Any] | None = None


class ThresholdsIn(StrictModel):
    step_up: float = Field(ge=0, le=1, description="Below this trust, step-up is demanded")
    terminate: float = Field(ge=0, le=1, description="Below this trust, the session ends")


class TrustView(BaseModel):
    model_config = ConfigDict(extra="allow")

    session_id: str
    principal_id: str
    trust: float
    state: str = Field(description="active, step_up_required or ended")
    reasons: list[str]
    events: int
    thresholds: dict[str, float]


class ThresholdsView(BaseModel):
    model_config = ConfigDict(extra="allow")

    step_up: float
    terminate: float


class ModelsView(BaseModel):
    principal_id: str
    models: list[dict[str, Any]]


@router.post(
    "/identity/sessions/{session_id}/signals",
    status_code=201,
    summary="Send a session's behavioural signals; answers its new trust",
)
@sealing
def post_signals(
    session_id: SessionId, body: SignalBatch, request: Request, kernel: Kernel = Depends(get_kernel)
) -> dict[str, Any]:
    me: Principal = request.state.principal
    return kernel.contauth.record(
        me.tenant_id, me.principal_id, session_id, body.model_dump(exclude_none=True)
    )


@router.get(
    "/identity/sessions/{session_id}/trust",
    response_model=TrustView,
    summary="A session's trust, state and reasons; `as_of` reads them back from the ledger",
)
def get_trust(
    session_id: SessionId,
    request: Request,
    as_of: Annotated[str | None, Query(max_length=64)] = None,
    kernel: Kernel = Depends(get_kernel),
) -> dict[str, Any]:
    at = None
    if as_of is not None:
        try:
            at = parse_instant(as_of)
        except ValueError:
            raise InvalidInput(
                "invalid as_of", errors=[FieldError("/as_of", "an RFC 3339 instant")]
            ) from None
    found = kernel.contauth.trust(tenant_scope(request, kernel), session_id, at)
    owner = owner_filter(request)
    if owner is not None and found["principal_id"] != owner:
        raise NotFound("no such session")
    return found


@router.get(
    "/contauth/thresholds", response_model=ThresholdsView, summary="The tenant's trust thresholds"
)
def get_thresholds(request: Request, kernel: Kernel = Depends(get_kernel)) -> dict[str, Any]:
    return kernel.contauth.thresholds(tenant_of(request, kernel)).as_dict()


@router.put("/contauth/thresholds", summary="Set the tenant's trust thresholds (sealed)")
@sealing
def put_thresholds(
    body: ThresholdsIn, request: Request, kernel: Kernel = Depends(get_kernel)
) -> dict[str, Any]:
    return kernel.contauth.set_thresholds(
        tenant_of(request, kernel),
        Thresholds(body.step_up, body.terminate),
        actor=principal_id(request),
    )


@router.get(
    "/contauth/models/{principal_id}",
    response_model=ModelsView,
    summary="A principal's keystroke models, newest first: digests, detector, metrics",
)
def get_models(
    principal_id: Annotated[str, Path(min_length=1, max_length=128)],
    request: Request,
    kernel: Kernel = Depends(get_kernel),
) -> dict[str, Any]:
    found = kernel.identity.get_principal(principal_id)
    me: Principal = request.state.principal
    owner = owner_filter(request)
    if (
        found is None
        or not can_see_tenant(me, found.tenant_id)
        or owner not in (None, principal_id)
    ):
        raise NotFound("no such principal")
    tenant = found.tenant_id
    return {
        "principal_id": principal_id,
        "models": kernel.contauth.registry.describe(tenant, principal_id),
    }
