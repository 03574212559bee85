"""Credit over HTTP: products, applications (decided and offered or declined, listed,
withdrawn), acceptance (the borrower's e-signature), and the calculators (schedule, APR)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import Depends, Header, Query, Request, Response

from paygod.api.deps import get_kernel
from paygod.api.models import Digits
from paygod.api.receipts import replayed, sealing
from paygod.api.routers.admin import principal_id
from paygod.api.routers.payments import tenant_of, tenant_scope
from paygod.api.routing import router as strict_router
from paygod.api.schemas import credit as bodies
from paygod.api.schemas import success
from paygod.api.security import owner_filter
from paygod.bootstrap import Kernel
from paygod.credit.apr import annual_percentage_rate, parse_case
from paygod.credit.model import ApplicationStatus
from paygod.credit.products import CATALOG
from paygod.credit.schedule import amortize, parse_terms
from paygod.credit.service import MAX_PAGE, parse_withdrawal
from paygod.kernel.clock import parse_instant
from paygod.kernel.errors import FieldError, InvalidInput
from paygod.kernel.identifiers import identifier_problem, invisible_character

router = strict_router(prefix="/credit", tags=["credit"])


async def _json_object(request: Request) -> dict[str, Any]:
    from paygod.kernel.jsonio import parse_json

    body = parse_json(await request.body(), source="request body")
    if not isinstance(body, dict):
        raise InvalidInput(
            "the body must be a JSON object", errors=[FieldError("", "not an object")]
        )
    return body


async def _optional_object(request: Request) -> dict[str, Any]:
    return await _json_object(request) if await request.body() else {}


def _at(at: str | None) -> datetime | None:
    if at is None:
        return None
    try:
        return parse_instant(at)
    except (ValueError, InvalidInput):
        raise InvalidInput(
            "at must be an RFC 3339 instant", errors=[FieldError("#query/at", "not an instant")]
        ) from None


@router.get(
    "/products",
    summary="The product catalog: rate tables by grade, caps, limits",
    responses=success(bodies.Products),
)
def products() -> dict[str, Any]:
    return {"products": [p.as_dict() for p in CATALOG.values()]}


@router.post(
    "/applications",
    status_code=201,
    summary="Apply: underwritten, offered or declined",
    responses=replayed(),
)
@sealing
async def submit(
    request: Request,
    response: Response,
    idempotency_key: str | None = Header(default=None, max_length=200),
    kernel: Kernel = Depends(get_kernel),
) -> dict[str, Any]:
    body = await _json_object(request)
    from starlette.concurrency import run_in_threadpool

    application, created = await run_in_threadpool(
        lambda: kernel.lending.submit(
            body,
            tenant_id=tenant_of(request, kernel),
            applicant=principal_id(request),
            idempotency_key=idempotency_key,
        )
    )
    if not created:
        response.status_code = 200
    response.headers["Location"] = f"/v1/credit/applications/{application.application_id}"
    return application.as_dict()


@router.get(
    "/applications",
    summary="The tenant's applications (an applicant's own), oldest first, now or `at`",
    responses=success(bodies.Applications),
)
def list_applications(
    request: Request,
    status: Annotated[ApplicationStatus | None, Query()] = None,
    at: str | None = Query(default=None, max_length=64),
    after: str | None = Query(default=None, max_length=64),
    limit: Annotated[int, Digits, Query(ge=1, le=MAX_PAGE)] = 100,
    kernel: Kernel = Depends(get_kernel),
) -> dict[str, Any]:
    found = kernel.lending.applications(
        tenant_scope(request, kernel),
        owner_filter(request),
        status=status,
        at=_at(at),
        after=after,
        limit=limit,
    )
    return {
        "applications": [a.as_dict() for a in found],
        "next_after": found[-1].application_id if len(found) == limit else None,
    }


@router.get(
    "/applications/{application_id}",
    summary="An application as of now or `at`",
    responses=success(bodies.ApplicationWithHistory),
)
def get_application(
    application_id: str,
    request: Request,
    at: str | None = Query(default=None, max_length=64),
    kernel: Kernel = Depends(get_kernel),
) -> dict[str, Any]:
    application = kernel.lending.get(
        application_id, tenant_scope(request, kernel), owner_filter(request), _at(at)
    )
    return {**application.as_dict(), "history": kernel.lending.history(application_id)}


@router.post(
    "/applications/{application_id}/accept",
    summary="The applicant signs the contract: its digest is sealed",
    responses=success(bodies.SealedApplication),
)
@sealing
def accept(
    application_id: str, request: Request, kernel: Kernel = Depends(get_kernel)
) -> dict[str, Any]:
    kernel.lending.get(application_id, tenant_scope(request, kernel), owner_filter(request))
    application = kernel.lending.accept(
        application_id, tenant_id=tenant_scope(request, kernel), signer=principal_id(request)
    )
    return application.as_dict()


@router.post(
    "/applications/{application_id}/withdraw",
    summary="Withdraw an application before acceptance (the applicant, or the lender)",
    responses=success(bodies.SealedApplication),
)
@sealing
async def withdraw(
    application_id: str, request: Request, kernel: Kernel = Depends(get_kernel)
) -> dict[str, Any]:
    reason = parse_withdrawal(await _optional_object(request))
    from starlette.concurrency import run_in_threadpool

    application = await run_in_threadpool(
        lambda: kernel.lending.withdraw(
            application_id,
            tenant_id=tenant_scope(request, kernel),
            owner=owner_filter(request),
            by=principal_id(request),
            reason=reason,
        )
    )
    return application.as_dict()


@router.post(
    "/schedule",
    summary="A level-payment schedule (the CLI's `credit schedule`)",
    responses=success(bodies.Schedule),
)
async def schedule(request: Request) -> dict[str, Any]:
    body = await _json_object(request)
    known = {
        "principal",
        "currency",
        "annual_rate",
        "payments",
        "frequency",
        "day_count",
        "start",
        "rounding",
        "interest_only",
    }
    for key in body:
        if key not in known:
            raise InvalidInput(f"unknown field {key!r}", errors=[FieldError(f"/{key}", "unknown")])
    for key in known - {"rounding", "interest_only"}:
        if key not in body:
            raise InvalidInput(f"{key} is required", errors=[FieldError(f"/{key}", "required")])
    for key in ("currency", "annual_rate", "frequency", "day_count", "start", "rounding"):
        if key in body and not isinstance(body[key], str):
            raise InvalidInput(
                f"{key} must be a string", errors=[FieldError(f"/{key}", "must be a string")]
            )
    terms = parse_terms(**body)
    return amortize(terms).as_dict()


@router.post(
    "/apr",
    summary="The Regulation Z Appendix J APR of a case",
    responses=success(bodies.Apr),
)
async def apr(request: Request) -> dict[str, str]:
    return annual_percentage_rate(parse_case(await _json_object(request))).as_dict()


# -- loans ------------------------------------------------------------------------------


@router.get(
    "/loans",
    summary="The tenant's loans (an agent's own) as of now or `at`",
    responses=success(bodies.Loans),
)
def list_loans(
    request: Request,
    at: str | None = Query(default=None, max_length=64),
    kernel: Kernel = Depends(get_kernel),
) -> dict[str, Any]:
    when = _at(at)
    loans = kernel.loans.loans(tenant_scope(request, kernel), owner_filter(request), when)
    return {"loans": [kernel.loans.view(loan, when) for loan in loans]}


@router.get(
    "/loans/{loan_id}",
    summary="A loan, its instalments and delinquency, now or `at`",
    responses=success(bodies.LoanWithHistory),
)
def get_loan(
    loan_id: str,
    request: Request,
    at: str | None = Query(default=None, max_length=64),
    kernel: Kernel = Depends(get_kernel),
) -> dict[str, Any]:
    when = _at(at)
    loan = kernel.loans.get(loan_id, tenant_scope(request, kernel), owner_filter(request), when)
    return {**kernel.loans.view(loan, when), "history": kernel.loans.history(loan_id)}


@router.post(
    "/loans/{loan_id}/disburse",
    status_code=201,
    summary="Disburse an accepted contract: booked, sealed, optionally paid out by rail",
)
@sealing
async def disburse(
    loan_id: str, request: Request, kernel: Kernel = Depends(get_kernel)
) -> dict[str, Any]:
    body = await _optional_object(request)
    for key in body:
        if key != "payout":
            raise InvalidInput(f"unknown field {key!r}", errors=[FieldError(f"/{key}", "unknown")])
    payout = body.get("payout")
    if payout is not None and not isinstance(payout, dict):
        raise InvalidInput(
            "payout must be an object", errors=[FieldError("/payout", "not an object")]
        )
    from starlette.concurrency import run_in_threadpool

    return await run_in_threadpool(
        lambda: kernel.loans.disburse(
            loan_id,
            tenant_id=tenant_scope(request, kernel),
            operator=principal_id(request),
            payout=payout,
        )
    )


@router.post(
    "/loans/{loan_id}/repayments",
    status_code=201,
    summary="A repayment: fees, then interest, then principal; the rest repays early",
    responses=replayed(),
)
@sealing
async def repay(
    loan_id: str,
    request: Request,
    response: Response,
    idempotency_key: str | None = Header(default=None, max_length=200),
    kernel: Kernel = Depends(get_kernel),
) -> dict[str, Any]:
    if not idempotency_key:
        raise InvalidInput(
            "a repayment needs an Idempotency-Key header, so a retry never pays twice",
            errors=[FieldError("#header/idempotency-key", "required")],
        )
    if problem := identifier_problem(idempotency_key):
        raise InvalidInput(
            f"Idempotency-Key {problem}", errors=[FieldError("#header/idempotency-key", problem)]
        )
    body = await _json_object(request)
    from starlette.concurrency import run_in_threadpool

    result, created = await run_in_threadpool(
        lambda: kernel.loans.repay(
            loan_id,
            body,
            tenant_id=tenant_scope(request, kernel),
            owner=owner_filter(request),
            idempotency_key=idempotency_key,
        )
    )
    if not created:
        response.status_code = 200  # a replay: nothing new sealed, `receipt` is null
    return result


@router.post(
    "/loans/{loan_id}/assess",
    summary="Late fees, days past due and default as of now (also run hourly)",
)
@sealing
def assess(loan_id: str, request: Request, kernel: Kernel = Depends(get_kernel)) -> dict[str, Any]:
    return kernel.loans.assess(loan_id, tenant_id=tenant_scope(request, kernel))


@router.post("/loans/{loan_id}/write-off", summary="Write off a loan over 90 days past due")
@sealing
async def write_off(
    loan_id: str, request: Request, kernel: Kernel = Depends(get_kernel)
) -> dict[str, Any]:
    body = await _optional_object(request)
    for key in body:
        if key != "reason":
            raise InvalidInput(f"unknown field {key!r}", errors=[FieldError(f"/{key}", "unknown")])
    reason = body.get("reason", "90+ days past due")
    if not isinstance(reason, str) or not reason.strip() or len(reason) > 200:
        raise InvalidInput(
            "reason must be 1 to 200 characters", errors=[FieldError("/reason", "1 to 200")]
        )
    if problem := invisible_character(reason):
        # Sealed in the ledger and printed in audit output: no character may hide text.
        raise InvalidInput(f"reason {problem}", errors=[FieldError("/reason", problem)])
    return kernel.loans.write_off(
        loan_id, tenant_id=tenant_scope(request, kernel), by=principal_id(request), reason=reason
    )


@router.get(
    "/portfolio",
    summary="Outstanding, delinquency by bucket and expected loss, now or `at`",
    responses=success(bodies.Portfolio),
)
def portfolio(
    request: Request,
    at: str | None = Query(default=None, max_length=64),
    kernel: Kernel = Depends(get_kernel),
) -> dict[str, Any]:
    return kernel.loans.portfolio(tenant_of(request, kernel), owner_filter(request), _at(at))


# -- revolving credit lines -------------------------------------------------------------


def _key(idempotency_key: str | None, what: str) -> str:
    if not idempotency_key:
        raise InvalidInput(
            f"a {what} needs an Idempotency-Key header, so a retry never moves money twice",
            errors=[FieldError("#header/idempotency-key", "required")],
        )
    if problem := identifier_problem(idempotency_key):
        raise InvalidInput(
            f"Idempotency-Key {problem}", errors=[FieldError("#header/idempotency-key", problem)]
        )
    return idempotency_key


@router.get(
    "/lines",
    summary="The tenant's credit lines (an agent's own) as of now or `at`",
    responses=success(bodies.CreditLines),
)
def list_lines(
    request: Request,
    at: str | None = Query(default=None, max_length=64),
    kernel: Kernel = Depends(get_kernel),
) -> dict[str, Any]:
    when = _at(at)
    lines = kernel.credit_lines.lines(tenant_scope(request, kernel), owner_filter(request), when)
    return {"lines": [kernel.credit_lines.view(line, when) for line in lines]}


@router.get(
    "/lines/{line_id}",
    summary="A credit line: balance, interest to date, available credit, minimum payment",
    responses=success(bodies.CreditLineWithHistory),
)
def get_line(
    line_id: str,
    request: Request,
    at: str | None = Query(default=None, max_length=64),
    kernel: Kernel = Depends(get_kernel),
) -> dict[str, Any]:
    when = _at(at)
    lines = kernel.credit_lines
    line = lines.get(line_id, tenant_scope(request, kernel), owner_filter(request), when)
    return {**lines.view(line, when), "transitions": lines.history(line_id)}


@router.post(
    "/lines/{line_id}/open",
    status_code=201,
    summary="Open an accepted credit line contract: its accounts booked, the line sealed",
    responses=success(bodies.SealedCreditLine, status=201),
)
@sealing
async def open_line(
    line_id: str, request: Request, kernel: Kernel = Depends(get_kernel)
) -> dict[str, Any]:
    body = await _optional_object(request)
    for key in body:
        raise InvalidInput(f"unknown field {key!r}", errors=[FieldError(f"/{key}", "unknown")])
    from starlette.concurrency import run_in_threadpool

    return await run_in_threadpool(
        lambda: kernel.credit_lines.open(line_id, tenant_id=tenant_scope(request, kernel))
    )


@router.post(
    "/lines/{line_id}/draws",
    status_code=201,
    summary="Draw on a line, within its available credit, to the borrower's wallet",
    responses={
        **success(bodies.SealedCreditMove, status=201),
        **replayed(bodies.SealedCreditMove),
    },
)
@sealing
async def draw(
    line_id: str,
    request: Request,
    response: Response,
    idempotency_key: str | None = Header(default=None, max_length=200),
    kernel: Kernel = Depends(get_kernel),
) -> dict[str, Any]:
    key = _key(idempotency_key, "draw")
    body = await _json_object(request)
    from starlette.concurrency import run_in_threadpool

    result, created = await run_in_threadpool(
        lambda: kernel.credit_lines.draw(
            line_id,
            body,
            tenant_id=tenant_scope(request, kernel),
            owner=owner_filter(request),
            idempotency_key=key,
        )
    )
    if not created:
        response.status_code = 200  # a replay: nothing new sealed, `receipt` is null
    return result


@router.post(
    "/lines/{line_id}/repayments",
    status_code=201,
    summary="Repay a line: the interest accrued to now first, then principal",
    responses={
        **success(bodies.SealedCreditMove, status=201),
        **replayed(bodies.SealedCreditMove),
    },
)
@sealing
async def repay_line(
    line_id: str,
    request: Request,
    response: Response,
    idempotency_key: str | None = Header(default=None, max_length=200),
    kernel: Kernel = Depends(get_kernel),
) -> dict[str, Any]:
    key = _key(idempotency_key, "repayment")
    body = await _json_object(request)
    from starlette.concurrency import run_in_threadpool

    result, created = await run_in_threadpool(
        lambda: kernel.credit_lines.repay(
            line_id,
            body,
            tenant_id=tenant_scope(request, kernel),
            owner=owner_filter(request),
            idempotency_key=key,
        )
    )
    if not created:
        response.status_code = 200
    return result


@router.post(
    "/lines/{line_id}/close",
    summary="Close a line that owes nothing",
    responses=success(bodies.SealedCreditLine),
)
@sealing
async def close_line(
    line_id: str, request: Request, kernel: Kernel = Depends(get_kernel)
) -> dict[str, Any]:
    body = await _optional_object(request)
    for key in body:
        raise InvalidInput(f"unknown field {key!r}", errors=[FieldError(f"/{key}", "unknown")])
    from starlette.concurrency import run_in_threadpool

    return await run_in_threadpool(
        lambda: kernel.credit_lines.close(
            line_id, tenant_id=tenant_scope(request, kernel), owner=owner_filter(request)
        )
    )
