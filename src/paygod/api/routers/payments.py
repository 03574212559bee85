"""Payments over HTTP: quotes, payment intents, maker-checker approvals, settlement webhooks."""

from __future__ import annotations

from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Header, Query, Request, Response
from pydantic import Field, StrictInt, StrictStr
from starlette.concurrency import run_in_threadpool

from paygod.api.deps import get_kernel
from paygod.api.models import Digits, NoNul, StrictModel
from paygod.api.receipts import SEALED_RESPONSES, sealing
from paygod.api.routers.admin import Caller, principal_id
from paygod.api.routing import router as strict_router
from paygod.api.schemas import payments as bodies
from paygod.api.schemas import success
from paygod.api.security import owner_filter
from paygod.bootstrap import Kernel
from paygod.kernel.errors import FieldError, InvalidInput, NotFound
from paygod.ledger.receipt import collecting
from paygod.ledger.steps import Steps, run_blocking
from paygod.payments.model import Payment, PaymentStatus
from paygod.payments.signing import SIGNATURE_HEADER
from paygod.payments.stores.index import REVIEW, PaymentQuery

router = strict_router(prefix="/payments", tags=["payments"])
LISTABLE = (REVIEW, *(s.value for s in PaymentStatus))
# Partners' settlement webhooks carry no API key: the HMAC signature is their credential,
# so this router is mounted outside the authenticated /v1 router.
# Raw bytes: the signature is checked (and a bad one recorded) before anything is parsed.
webhooks = APIRouter(prefix="/v1/payments/webhooks", tags=["payments"])


def tenant_of(request: Request, kernel: Kernel) -> str:
    """The tenant a new payment belongs to: the principal's (the kernel's for platform admins
    and for set-ups without identity)."""
    principal = getattr(request.state, "principal", None)
    tenant = getattr(principal, "tenant_id", None)
    return str(tenant) if tenant and tenant != "*" else kernel.settings.tenant


def tenant_scope(request: Request, kernel: Annotated[Kernel, Depends(get_kernel)]) -> str | None:
    """The tenant reads are limited to; None (every tenant) for a platform admin."""
    principal = getattr(request.state, "principal", None)
    if principal is None:
        return kernel.settings.tenant
    tenant = getattr(principal, "tenant_id", None)
    return None if tenant == "*" else str(tenant)


# The tenant reads and reviews are limited to, as a route parameter.
TenantScope = Annotated[str | None, Depends(tenant_scope)]


def visible(request: Request, kernel: Kernel, payment_id: str) -> Payment:
    """A payment the caller may see: same tenant, and its own when its scope is `own`
    (an agent sees the payments it requested, not its neighbours')."""
    payment = kernel.payments.get(payment_id, tenant_scope(request, kernel))
    owner = owner_filter(request)
    if owner is not None and payment.requested_by != owner:
        raise NotFound(f"no payment {payment_id}")
    return payment


def require_payer_account(
    kernel: Kernel, tenant: str, body: PaymentBody, owner: str | None
) -> None:
    """The payer account exists in the caller's tenant, in the payment's currency, and
    (scope `own`) is the caller's: an agent pays from its own accounts only, never on
    another's behalf, and a missing account and another's read alike (no existence
    leak). Otherwise 422 with the pointer, and nothing is recorded: a payment from an
    account that cannot hold the money is a mistake in the request, not a payment."""
    payer = body.payer_account
    try:
        account = kernel.accounting.get_account(tenant, payer, owner)
    except NotFound:
        detail = f"you own no account {payer}" if owner else f"no account {payer} in this tenant"
        raise InvalidInput(
            "payer_account is not an account you can pay from; nothing was recorded",
            errors=[FieldError("/payer_account", detail)],
        ) from None
    if account.ledger != body.currency:
        raise InvalidInput(
            f"payer_account {payer} holds {account.ledger}, not {body.currency}; "
            "nothing was recorded",
            errors=[FieldError("/currency", f"the payer account's currency is {account.ledger}")],
        )


class QuoteRequest(StrictModel):
    vaulted = ("/payee",)  # a quote records nothing; the payee is read for rail fit only
    amount: StrictInt = Field(gt=0, le=10**15)
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    payee: dict[str, StrictStr] | None = None
    rail_preference: str | None = None


class PaymentBody(StrictModel):
    vaulted = ("/payee",)  # kept in the payee vault, sealed as `payee_ref` (its digest)
    payer_account: Annotated[str, Field(min_length=1, max_length=200), NoNul]
    payee: dict[str, StrictStr]
    amount: StrictInt = Field(gt=0, le=10**15)
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    purpose: Annotated[str, Field(min_length=1, max_length=140), NoNul]
    rail_preference: str | None = None
    metadata: dict[str, Any] = Field(default_factory=dict)


class ReviewBody(StrictModel):
    note: str = Field(default="", max_length=1000)


@router.post(
    "/quote",
    summary="Which rail, what fee, when it arrives — and why not the others",
    responses=success(bodies.Quote),
)
def quote(body: QuoteRequest, kernel: Kernel = Depends(get_kernel)) -> dict[str, Any]:
    result = kernel.payments.quote(
        amount=body.amount,
        currency=body.currency,
        preference=body.rail_preference,
        payee=body.payee,
    )
    return result.as_dict()


@router.post(
    "",
    status_code=201,
    summary="Request a payment (decided, sealed, held, queued)",
    response_model=None,
    responses=SEALED_RESPONSES,
)
def create_payment(
    body: PaymentBody,
    request: Request,
    idempotency_key: str | None = Header(default=None, max_length=200),
) -> Response:
    # api/hotpath.py serves the well-formed request without FastAPI (same functions);
    # this route documents the contract and answers everything else.
    return create(request, body, idempotency_key)


def create(request: Request, body: PaymentBody, idempotency_key: str | None) -> Response:
    kernel: Kernel = request.app.state.kernel
    return run_blocking(kernel.ledger, create_steps(request, body, idempotency_key))


def create_steps(
    request: Request, body: PaymentBody, idempotency_key: str | None
) -> Steps[Response]:
    """Create the payment for the authenticated caller (after `enforce_access`): 201 when
    created now, 200 when the Idempotency-Key already named it."""
    kernel: Kernel = request.app.state.kernel
    tenant, owner = tenant_of(request, kernel), owner_filter(request)
    fields = body.model_dump(exclude_none=True)
    kernel.payments.validate(fields)  # the request's own errors first, then its references
    require_payer_account(kernel, tenant, body, owner)
    with collecting() as sealed:
        payment, created = yield from kernel.payments.create_steps(
            fields,
            tenant_id=tenant,
            requested_by=principal_id(request),
            idempotency_key=idempotency_key,
            owner=owner,
        )
    return Response(
        orjson.dumps({**payment.as_dict(), "receipt": sealed.receipt()}),
        status_code=201 if created else 200,
        media_type="application/json",
        headers={"Location": f"/v1/payments/{payment.payment_id}"},
    )


@router.get(
    "",
    summary="Payments by newest state; status=review is the checkers' queue",
    responses=success(bodies.PaymentList),
)
def list_payments(
    request: Request,
    kernel: Kernel = Depends(get_kernel),
    status: Annotated[str | None, Query(pattern=f"^({'|'.join(LISTABLE)})$")] = None,
    limit: Annotated[int, Digits, Query(ge=1, le=500)] = 50,
) -> dict[str, Any]:
    found = kernel.payments.search(
        PaymentQuery(
            tenant_id=tenant_scope(request, kernel),
            owner=owner_filter(request),
            status=status,
            limit=limit,
        )
    )
    return {"payments": [p.as_dict() for p in found]}


@router.get(
    "/{payment_id}",
    summary="A payment, its state and its history in the ledger",
    responses=success(bodies.PaymentWithHistory),
)
def get_payment(
    payment_id: str, request: Request, kernel: Kernel = Depends(get_kernel)
) -> dict[str, Any]:
    payment = visible(request, kernel, payment_id)
    return {**payment.as_dict(), "history": kernel.payments.history(payment_id)}


@router.post("/{payment_id}/approve", summary="Approve a payment in review (not its requester)")
@sealing
def approve(
    payment_id: str,
    approver: Caller,
    scope: TenantScope,
    body: ReviewBody | None = None,
    kernel: Kernel = Depends(get_kernel),
) -> dict[str, Any]:
    note = body.note if body else ""
    return kernel.payments.approve(
        payment_id, approver=approver, note=note, tenant_id=scope
    ).as_dict()


@router.post("/{payment_id}/reject", summary="Reject a payment in review (not its requester)")
@sealing
def reject(
    payment_id: str,
    approver: Caller,
    scope: TenantScope,
    body: ReviewBody | None = None,
    kernel: Kernel = Depends(get_kernel),
) -> dict[str, Any]:
    note = body.note if body else ""
    return kernel.payments.reject(
        payment_id, approver=approver, note=note, tenant_id=scope
    ).as_dict()


@webhooks.post("/{rail}", summary="Inbound settlement webhook (HMAC-signed, no API key)")
@sealing
async def settlement_webhook(
    rail: str, request: Request, kernel: Kernel = Depends(get_kernel)
) -> dict[str, Any]:
    body = await request.body()
    payment = await run_in_threadpool(
        kernel.payments.receive_webhook, rail, request.headers.get(SIGNATURE_HEADER), body
    )
    return payment.as_dict() if payment else {}
