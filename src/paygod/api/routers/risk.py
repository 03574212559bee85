"""Risk over HTTP: the model registry and a dry-run score against the tenant's windows."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Path, Request
from pydantic import Field

from paygod.api.deps import get_kernel
from paygod.api.models import Digits, StrictModel
from paygod.api.routers.payments import tenant_of
from paygod.api.routing import router as strict_router
from paygod.api.schemas import risk as bodies
from paygod.api.schemas import success
from paygod.bootstrap import Kernel
from paygod.decisions.service import subject_errors
from paygod.kernel.errors import FieldError, InvalidInput

router = strict_router(prefix="/risk", tags=["risk"])


class ScoreRequest(StrictModel):
    subject: Annotated[str, Field(min_length=1, max_length=256)]
    context: dict[str, Any] = Field(default_factory=dict)
    input: dict[str, Any] = Field(default_factory=dict)


@router.get(
    "/models",
    summary="The model registry, newest first (the active one marked)",
    responses=success(bodies.RiskModels),
)
def models(kernel: Kernel = Depends(get_kernel)) -> dict[str, Any]:
    return {"models": kernel.risk.models()}


@router.get(
    "/models/{version}",
    summary="One registered model: digests, metrics, features",
    responses=success(bodies.RiskModel),
)
def model(
    version: Annotated[int, Digits, Path(ge=1, le=2**31 - 1)],
    kernel: Kernel = Depends(get_kernel),
) -> dict[str, Any]:
    return kernel.risk.model(version)


@router.post(
    "/score",
    summary="Score a hypothetical payment against the tenant's windows",
    responses=success(bodies.RiskScore),
)
def score(
    body: ScoreRequest, request: Request, kernel: Kernel = Depends(get_kernel)
) -> dict[str, Any]:
    """Nothing is sealed and the windows do not change: what a decision now would measure."""
    errors = [*subject_errors(body.subject), *kernel.risk.problems(body.context)]
    if errors:
        raise InvalidInput("invalid risk context", errors=errors)
    part = kernel.risk.assess_request(
        tenant_id=tenant_of(request, kernel),
        subject=body.subject,
        input_doc=body.input,
        context=body.context,
        now=kernel.clock.now(),
    )
    if part is None:
        raise InvalidInput(
            "nothing to score: give input.payment.amount_minor or context.amount_minor",
            errors=[FieldError("/input/payment/amount_minor", "required to score")],
        )
    return {"observation": part.observation.as_dict(), **part.assessment.as_dict()}
