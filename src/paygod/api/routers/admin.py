"""Operator controls: the panic switch (freeze every side effect; decisions continue)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request

from paygod.api.deps import get_kernel
from paygod.api.models import NoNul, StrictModel
from paygod.api.receipts import sealing
from paygod.api.routing import router as strict_router
from paygod.kernel.bootstrap import Kernel
from paygod.kernel.errors import FieldError, InvalidInput

router = strict_router(prefix="/admin", tags=["admin"])

PRINCIPAL_HEADER = "x-paygod-principal"


def principal_id(request: Request) -> str:
    """Who is acting. The one place this is read: identity's authenticated principal when
    it set one, else the `X-Paygod-Principal` header (a stand-in for unauthenticated
    set-ups), else 'anonymous'."""
    principal = getattr(request.state, "principal", None)
    if principal is not None:
        return str(getattr(principal, "principal_id", principal))
    return request.headers.get(PRINCIPAL_HEADER) or "anonymous"


class PanicChange(StrictModel):
    on: bool
    reason: Annotated[str, NoNul] | None = None


@router.get("/panic", summary="Is the panic switch on?")
def panic_status(kernel: Kernel = Depends(get_kernel)) -> dict[str, Any]:
    return kernel.panic.status().as_dict()


@router.post("/panic", summary="Turn the panic switch on (with a reason) or off")
@sealing
def panic_change(
    body: PanicChange, request: Request, kernel: Kernel = Depends(get_kernel)
) -> dict[str, Any]:
    actor = principal_id(request)
    if body.on:
        if not body.reason or not body.reason.strip():
            raise InvalidInput(
                "a reason is required to turn the panic switch on",
                errors=[FieldError("/reason", "required when on is true")],
            )
        return kernel.panic.turn_on(body.reason, actor).as_dict()
    return kernel.panic.turn_off(actor).as_dict()
