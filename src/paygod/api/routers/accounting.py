"""Accounting over HTTP: accounts, transfers and holds, reports, credits, reconciliations.

Amounts are JSON integers in minor units; floats, strings and booleans are refused with
a pointer to the field, and every domain refusal carries its TigerBeetle-style code as
the problem `type` (…/problems/exceeds_credits). A refused request records nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import Depends, Header, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import Field, StrictInt, ValidationError

from paygod.accounting import (
    AccountCode,
    AccountFlags,
    AccountingService,
    AccountSpec,
    TransferFlags,
    TransferRequest,
    TransferResult,
)
from paygod.accounting.credits import CreditsService, idempotency_key_problem
from paygod.accounting.errors import AccountingCode, IdempotencyKeyInvalid
from paygod.accounting.reconciliation import Reconciler
from paygod.accounting.reports import statement_csv
from paygod.api.deps import get_kernel
from paygod.api.models import Digits, StrictModel, query_instant
from paygod.api.problems import pointer_from_loc
from paygod.api.receipts import replayed, sealing
from paygod.api.routers.admin import principal_id
from paygod.api.routing import ABSENT, body_members, json_body
from paygod.api.routing import router as strict_router
from paygod.api.schemas import Documented, success
from paygod.api.schemas import accounting as bodies
from paygod.api.security import identity_of, owner_filter
from paygod.bootstrap import Kernel
from paygod.kernel.clock import parse_instant
from paygod.kernel.errors import FieldError, InvalidInput

router = strict_router(tags=["accounting"])

Id = Annotated[str, Field(min_length=1, max_length=128)]
AccountFlagName = Literal["debits_must_not_exceed_credits", "credits_must_not_exceed_debits"]
TransferFlagName = Literal["pending", "post_pending", "void_pending", "linked"]
Metadata = Annotated[dict[str, Any], Field(max_length=64)]


def tenant_of(request: Request) -> str:
    """The caller's tenant: its principal's; a platform admin (tenant '*') names one with
    the X-Paygod-Tenant header, else acts on the configured default tenant."""
    principal = getattr(request.state, "principal", None)
    tenant = getattr(principal, "tenant_id", None)
    if isinstance(tenant, str) and tenant and tenant != "*":
        return tenant
    chosen = request.headers.get("x-paygod-tenant")
    if chosen:
        if len(chosen) > 64:
            raise InvalidInput(
                "X-Paygod-Tenant is too long",
                errors=[FieldError("#header/x-paygod-tenant", "at most 64 characters")],
            )
        return chosen
    default: str = request.app.state.kernel.settings.tenant
    return default


def accounting_of(kernel: Kernel = Depends(get_kernel)) -> AccountingService:
    return kernel.accounting


def credits_of(kernel: Kernel = Depends(get_kernel)) -> CreditsService:
    return kernel.credits


Tenant = Annotated[str, Depends(tenant_of)]
# The caller's principal id when its scope is `own` (agents): reads are limited to its
# accounts, and transfers touching them, in the store's query.
Owner = Annotated[str | None, Depends(owner_filter)]
Accounting = Annotated[AccountingService, Depends(accounting_of)]
Credits = Annotated[CreditsService, Depends(credits_of)]


# -- accounts ---------------------------------------------------------------------------


class AccountCreate(StrictModel):
    identifiers = ("/id", "/owner")  # `id_invalid`: the accounts' own identifier rule
    id: Id | None = None
    ledger: str = Field(pattern=r"^[A-Z]{3,16}$", description="ISO 4217 code or CREDITS")
    code: AccountCode
    flags: list[AccountFlagName] = Field(default_factory=list, max_length=2)
    metadata: Metadata = Field(default_factory=dict)
    owner: Id | None = Field(
        default=None,
        description="Principal id the account belongs to (e.g. an agent's wallet); "
        "principals with scope `own` see and pay from their own accounts only",
    )


def _check_owner(request: Request, tenant: str, owner: str | None) -> None:
    """An owner must be a principal of the account's tenant: an account owned by a stranger
    (or a typo) would be invisible to everyone with scope `own`."""
    if owner is not None:
        identity_of(request).require_member(tenant, owner, "/owner")


@router.post(
    "/accounts",
    status_code=201,
    summary="Open an account (idempotent by id)",
    responses=replayed(),
)
@sealing
async def create_account(
    body: AccountCreate,
    request: Request,
    response: Response,
    tenant: Tenant,
    accounting: Accounting,
) -> dict[str, Any]:
    await run_in_threadpool(_check_owner, request, tenant, body.owner)
    spec = AccountSpec(
        body.ledger,
        body.code,
        body.id,
        AccountFlags.from_names(body.flags),
        body.metadata,
        body.owner,
    )
    account, created = await run_in_threadpool(accounting.open_account, tenant, spec)
    if not created:
        response.status_code = 200
    return account.as_dict()


@router.get(
    "/accounts",
    summary="List accounts",
    responses=success(bodies.AccountPage),
)
async def list_accounts(
    tenant: Tenant,
    owner: Owner,
    accounting: Accounting,
    ledger: str | None = None,
    after: str | None = None,
    limit: Annotated[int, Digits, Query(ge=1, le=1000)] = 100,
) -> dict[str, Any]:
    found = await run_in_threadpool(
        lambda: accounting.list_accounts(
            tenant, ledger=ledger, after=after, limit=limit, owner=owner
        )
    )
    return {
        "accounts": [a.as_dict() for a in found],
        "next_after": found[-1].id if len(found) == limit else None,
    }


@router.get(
    "/accounts/{account_id}",
    summary="One account with its four running totals",
    responses=success(bodies.Account),
)
async def get_account(
    account_id: str, tenant: Tenant, owner: Owner, accounting: Accounting
) -> dict[str, Any]:
    return (await run_in_threadpool(accounting.get_account, tenant, account_id, owner)).as_dict()


@router.post("/accounts/{account_id}/close", summary="Close an account to new transfers")
@sealing
async def close_account(account_id: str, tenant: Tenant, accounting: Accounting) -> dict[str, Any]:
    return (await run_in_threadpool(accounting.close_account, tenant, account_id)).as_dict()


@router.get(
    "/accounts/{account_id}/balance",
    summary="Balance now, as of a past instant (at), or on both time axes (valid_at, "
    "recorded_at: the balance on valid_at as the books stood at recorded_at)",
    responses=success(bodies.BalanceAt | bodies.BalanceOnBothAxes),
)
async def balance(
    account_id: str,
    tenant: Tenant,
    owner: Owner,
    accounting: Accounting,
    at: str | None = None,
    valid_at: str | None = None,
    recorded_at: str | None = None,
) -> dict[str, Any]:
    if valid_at is not None or recorded_at is not None:
        if at is not None:
            raise InvalidInput(
                "at is recorded time; with valid_at/recorded_at name recorded_at instead",
                errors=[FieldError("#query/at", "not with valid_at or recorded_at")],
            )
        valid = query_instant(valid_at, "valid_at")
        recorded = query_instant(recorded_at, "recorded_at")
        both = await run_in_threadpool(
            accounting.valid_balance, tenant, account_id, valid, recorded, owner
        )
        return both.as_dict()
    when = query_instant(at, "at")
    found = await run_in_threadpool(accounting.balance, tenant, account_id, when, owner)
    return found.as_dict()


# Both routes answer CSV when asked (?format=csv): documented, so clients and
# schema-conformance checks expect that content type too.
def json_or_csv(model: Documented) -> dict[int | str, dict[str, Any]]:
    return {
        200: {
            "model": model,
            "description": "JSON, or CSV when asked",
            "content": {"application/json": {}, "text/csv": {"schema": {"type": "string"}}},
        }
    }


@router.get(
    "/accounts/{account_id}/statement",
    summary="Opening balance, lines, closing",
    responses=json_or_csv(bodies.Statement),
)
async def statement(
    account_id: str,
    tenant: Tenant,
    owner: Owner,
    accounting: Accounting,
    from_: Annotated[str, Query(alias="from")],
    to: str,
    format: Literal["json", "csv"] = "json",
) -> Any:
    start, end = query_instant(from_, "from"), query_instant(to, "to")
    assert start is not None and end is not None
    result = await run_in_threadpool(accounting.statement, tenant, account_id, start, end, owner)
    if format == "csv":
        return Response(statement_csv(result), media_type="text/csv")
    return result.as_dict()


# -- transfers --------------------------------------------------------------------------


# Ids the transfer rules check themselves, with TigerBeetle-style codes (`id_invalid`).
_TRANSFER_IDS = ("id", "debit_account_id", "credit_account_id", "pending_id", "reversal_of")


class TransferCreate(StrictModel):
    id: Id
    debit_account_id: Id | None = None
    credit_account_id: Id | None = None
    amount: StrictInt | None = None
    ledger: str | None = Field(default=None, pattern=r"^[A-Z]{3,16}$")
    code: str = Field(default="transfer", min_length=1, max_length=64)
    flags: list[TransferFlagName] = Field(default_factory=list, max_length=4)
    pending_id: Id | None = None
    timeout_seconds: StrictInt = Field(default=0, ge=0, le=366 * 86400)
    reversal_of: Id | None = None
    metadata: Metadata = Field(default_factory=dict)
    valid_from: str | None = Field(
        default=None,
        max_length=40,
        description="RFC 3339 instant in the past: a backdated posting, valid from then",
    )

    def request(self, prefix: str = "") -> TransferRequest:
        return TransferRequest(
            id=self.id,
            debit_account_id=self.debit_account_id,
            credit_account_id=self.credit_account_id,
            amount=self.amount,
            ledger=self.ledger,
            code=self.code,
            flags=TransferFlags.from_names(self.flags),
            pending_id=self.pending_id,
            timeout_seconds=self.timeout_seconds,
            reversal_of=self.reversal_of,
            metadata=self.metadata,
            valid_from=_valid_from(self.valid_from, prefix),
        )


def _valid_from(value: str | None, prefix: str) -> datetime | None:
    """RFC 3339 section 5.6 date-time: a date, a time and an offset (a bare date or a
    naive time is ambiguous about the instant it names)."""
    if value is None:
        return None
    if len(value) < 20 or value[10] not in "Tt" or not (value[-1] in "Zz" or value[-6] in "+-"):
        parsed = None
    else:
        try:
            parsed = parse_instant(value)
        except ValueError:
            parsed = None
    if parsed is None:
        raise InvalidInput(
            "valid_from is not an RFC 3339 date-time",
            code=AccountingCode.VALID_FROM_INVALID,
            errors=[FieldError(f"{prefix}/valid_from", "expected e.g. 2026-03-01T00:00:00Z")],
        )
    return parsed


class TransferBatch(StrictModel):
    transfers: list[TransferCreate] = Field(min_length=1, max_length=8190)


# The body is parsed by hand (one transfer or a batch); its schema is documented inline.
_ONE = TransferCreate.model_json_schema()
_BATCH = {
    "type": "object",
    "title": "TransferBatch",
    "additionalProperties": False,
    "required": ["transfers"],
    "properties": {"transfers": {"type": "array", "items": _ONE, "minItems": 1, "maxItems": 8190}},
}


def _validated(model: type[StrictModel], raw: Any) -> Any:
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        raise InvalidInput(
            "the request does not match the schema; nothing was recorded",
            errors=[FieldError(pointer_from_loc(e["loc"]), e["msg"]) for e in exc.errors()],
        ) from None


def _results(results: list[TransferResult]) -> list[dict[str, Any]]:
    return [{**r.transfer.as_dict(), "created": r.created} for r in results if r.transfer]


def _answer(result: TransferResult, response: Response) -> dict[str, Any]:
    """One transfer: 201 when this call made it, 200 when it replays an earlier one."""
    if not result.created:
        response.status_code = 200
    return _results([result])[0]


@router.post(
    "/transfers",
    status_code=201,
    summary="Create a transfer, or a linked batch {transfers: [...]} (all or nothing)",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": {"oneOf": [_ONE, _BATCH]}}},
        }
    },
    responses=replayed(),
)
@sealing
@body_members(
    identifiers=tuple(f"/{name}" for name in _TRANSFER_IDS)
    + tuple(f"/transfers/*/{name}" for name in _TRANSFER_IDS)
)
async def create_transfer(
    request: Request, response: Response, tenant: Tenant, accounting: Accounting
) -> dict[str, Any]:
    raw = await json_body(request, required=True)
    if isinstance(raw, dict) and "transfers" in raw:
        batch: TransferBatch = _validated(TransferBatch, raw)
        results = await run_in_threadpool(
            accounting.submit_linked,
            tenant,
            [t.request(f"/transfers/{i}") for i, t in enumerate(batch.transfers)],
        )
        if not any(r.created for r in results):
            response.status_code = 200
        return {"transfers": _results(results)}
    one: TransferCreate = _validated(TransferCreate, raw)
    return _answer(await run_in_threadpool(accounting.transfer, tenant, one.request()), response)


@router.get(
    "/transfers",
    summary="List transfers, or export them (?format=csv|json)",
    # The JSON export (?format=json) is the bare array of every transfer.
    responses=json_or_csv(bodies.TransferPage | list[bodies.Transfer]),
)
async def list_transfers(
    tenant: Tenant,
    owner: Owner,
    accounting: Accounting,
    after: str | None = None,
    limit: Annotated[int, Digits, Query(ge=1, le=1000)] = 100,
    format: Literal["csv", "json"] | None = None,
) -> Any:
    if format is not None:
        text = await run_in_threadpool(accounting.export_transfers, tenant, format, owner)
        media = "text/csv" if format == "csv" else "application/json"
        return Response(text, media_type=media)
    found = await run_in_threadpool(
        lambda: accounting.list_transfers(tenant, after=after, limit=limit, owner=owner)
    )
    return {
        "transfers": [t.as_dict() for t in found],
        "next_after": found[-1].id if len(found) == limit else None,
    }


@router.get(
    "/transfers/{transfer_id}",
    summary="One transfer",
    responses=success(bodies.Transfer),
)
async def get_transfer(
    transfer_id: str, tenant: Tenant, owner: Owner, accounting: Accounting
) -> dict[str, Any]:
    found = await run_in_threadpool(accounting.get_transfer, tenant, transfer_id, owner)
    return found.as_dict()


class Resolve(StrictModel):
    id: Id | None = None
    amount: StrictInt | None = None
    metadata: Metadata = Field(default_factory=dict)


async def _body_or_empty(request: Request) -> Resolve:
    data = await json_body(request)
    if data is ABSENT:
        return Resolve()
    body: Resolve = _validated(Resolve, data)
    return body


async def _resolution(
    request: Request, response: Response, resolve: Callable[[Resolve], TransferResult]
) -> dict[str, Any]:
    """A hold posted or voided, or a transfer reversed, from an optional body."""
    body = await _body_or_empty(request)
    return _answer(await run_in_threadpool(resolve, body), response)


@router.post(
    "/transfers/{transfer_id}/post",
    status_code=201,
    summary="Post a hold",
    responses=replayed(),
)
@sealing
async def post_transfer(
    transfer_id: str, request: Request, response: Response, tenant: Tenant, accounting: Accounting
) -> dict[str, Any]:
    def post(body: Resolve) -> TransferResult:
        return accounting.post_pending(
            tenant, transfer_id, id=body.id, amount=body.amount, metadata=body.metadata
        )

    return await _resolution(request, response, post)


@router.post(
    "/transfers/{transfer_id}/void",
    status_code=201,
    summary="Void a hold",
    responses=replayed(),
)
@sealing
async def void_transfer(
    transfer_id: str, request: Request, response: Response, tenant: Tenant, accounting: Accounting
) -> dict[str, Any]:
    def void(body: Resolve) -> TransferResult:
        if body.amount is not None:
            raise InvalidInput(
                "a void releases the whole hold; omit amount",
                errors=[FieldError("/amount", "not allowed on void")],
            )
        return accounting.void_pending(tenant, transfer_id, id=body.id, metadata=body.metadata)

    return await _resolution(request, response, void)


@router.post(
    "/transfers/{transfer_id}/reverse",
    status_code=201,
    summary="Reverse a transfer",
    responses=replayed(),
)
@sealing
async def reverse_transfer(
    transfer_id: str, request: Request, response: Response, tenant: Tenant, accounting: Accounting
) -> dict[str, Any]:
    def reverse(body: Resolve) -> TransferResult:
        return accounting.reverse(
            tenant, transfer_id, id=body.id, amount=body.amount, metadata=body.metadata
        )

    return await _resolution(request, response, reverse)


# -- reports ----------------------------------------------------------------------------


@router.get(
    "/reports/trial-balance",
    summary="Per ledger: debit and credit balances agree",
    responses=success(bodies.TrialBalance),
)
async def trial_balance(tenant: Tenant, accounting: Accounting) -> dict[str, Any]:
    return await run_in_threadpool(accounting.trial_balance, tenant)


@router.get(
    "/reports/audit",
    summary="Running totals against totals rebuilt from the ledger",
    responses=success(bodies.AuditReport),
)
async def audit(tenant: Tenant, accounting: Accounting) -> dict[str, Any]:
    return (await run_in_threadpool(accounting.rebuild_check, tenant)).as_dict()


# -- reconciliations ---------------------------------------------------------------------


class ReconciliationCreate(StrictModel):
    account_id: Id
    statement_csv: str = Field(min_length=1, max_length=10_000_000)
    window_days: StrictInt = Field(default=3, ge=0, le=31)


@router.post("/reconciliations", status_code=201, summary="Match an external statement")
@sealing
async def reconcile(
    body: ReconciliationCreate, tenant: Tenant, accounting: Accounting
) -> dict[str, Any]:
    reconciler = Reconciler(accounting)
    return await run_in_threadpool(
        lambda: reconciler.reconcile(
            tenant, body.account_id, body.statement_csv, window_days=body.window_days
        )
    )


@router.get(
    "/reconciliations/{reconciliation_id}",
    summary="A recorded reconciliation",
    responses=success(bodies.Reconciliation),
)
async def get_reconciliation(
    reconciliation_id: str, tenant: Tenant, accounting: Accounting
) -> dict[str, Any]:
    return await run_in_threadpool(Reconciler(accounting).get, tenant, reconciliation_id)


# -- credits ----------------------------------------------------------------------------


class CreditMove(StrictModel):
    identifiers = ("/idempotency_key",)  # `idempotency_key_invalid`, see _key below
    amount: StrictInt
    idempotency_key: str | None = Field(default=None, min_length=1, max_length=100)
    metadata: Metadata = Field(default_factory=dict)


class CreditReserve(CreditMove):
    ttl_seconds: StrictInt = Field(default=300, ge=1, le=7 * 86400)


class CreditCommit(StrictModel):
    amount: StrictInt | None = None


class Threshold(StrictModel):
    low_balance_threshold: StrictInt | None = Field(ge=0)


_KEY_HEADER = "#header/idempotency-key"
IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key", max_length=100)]


def _key(body: CreditMove, header: str | None) -> str | None:
    if body.idempotency_key and header and body.idempotency_key != header:
        raise InvalidInput(
            "the Idempotency-Key header and idempotency_key differ",
            errors=[FieldError("/idempotency_key", "differs from the Idempotency-Key header")],
        )
    # Checked here, where it is known which of the two the caller sent, so the pointer
    # names that one (the service checks again, for the CLI and other callers).
    for key, pointer in ((body.idempotency_key, "/idempotency_key"), (header, _KEY_HEADER)):
        problem = idempotency_key_problem(key) if key is not None else None
        if problem:
            raise IdempotencyKeyInvalid(
                f"the idempotency key {problem}; nothing was recorded",
                errors=[FieldError(pointer, problem)],
            )
    return body.idempotency_key or header


@router.get(
    "/credits/balance",
    summary="The tenant's credits: balance, reserved, available",
    responses=success(bodies.CreditBalance),
)
async def credits_balance(tenant: Tenant, credits: Credits) -> dict[str, Any]:
    return (await run_in_threadpool(credits.balance, tenant)).as_dict()


@router.put("/credits/threshold", summary="Set the low-balance alert threshold")
@sealing
async def credits_threshold(body: Threshold, tenant: Tenant, credits: Credits) -> dict[str, Any]:
    return (
        await run_in_threadpool(credits.set_threshold, tenant, body.low_balance_threshold)
    ).as_dict()


@router.post("/credits/purchase", status_code=201, summary="Buy (top up) credits")
@sealing
async def credits_purchase(
    body: CreditMove, tenant: Tenant, credits: Credits, key: IdempotencyKey = None
) -> dict[str, Any]:
    idem = _key(body, key)
    t = await run_in_threadpool(
        lambda: credits.purchase(tenant, body.amount, key=idem, metadata=body.metadata)
    )
    return {
        "transfer": t.as_dict(),
        "balance": (await run_in_threadpool(credits.balance, tenant)).as_dict(),
    }


def _requested_by(request: Request, owner: str | None, metadata: dict[str, Any]) -> str:
    """Who a consumption or reservation is recorded for: the caller under scope `own` (so
    naming another is refused); a principal with scope `all` may name one in metadata."""
    named = metadata.get("requested_by")
    if owner is None and isinstance(named, str) and named:
        return named
    return owner or principal_id(request)


@router.post("/credits/consume", status_code=201, summary="Consume credits (402 when short)")
@sealing
async def credits_consume(
    body: CreditMove,
    request: Request,
    tenant: Tenant,
    owner: Owner,
    credits: Credits,
    key: IdempotencyKey = None,
) -> dict[str, Any]:
    idem = _key(body, key)
    by = _requested_by(request, owner, body.metadata)
    t = await run_in_threadpool(
        lambda: credits.consume(
            tenant, body.amount, key=idem, metadata=body.metadata, requested_by=by
        )
    )
    return {
        "transfer": t.as_dict(),
        "balance": (await run_in_threadpool(credits.balance, tenant)).as_dict(),
    }


@router.post("/credits/reservations", status_code=201, summary="Reserve credits with a TTL")
@sealing
async def credits_reserve(
    body: CreditReserve,
    request: Request,
    tenant: Tenant,
    owner: Owner,
    credits: Credits,
    key: IdempotencyKey = None,
) -> dict[str, Any]:
    idem = _key(body, key)
    by = _requested_by(request, owner, body.metadata)
    t = await run_in_threadpool(
        lambda: credits.reserve(
            tenant,
            body.amount,
            ttl_seconds=body.ttl_seconds,
            key=idem,
            metadata=body.metadata,
            requested_by=by,
        )
    )
    return {"reservation": t.as_dict()}


@router.post("/credits/reservations/{reservation_id}/commit", summary="Consume a reservation")
@sealing
async def credits_commit(
    reservation_id: str,
    tenant: Tenant,
    owner: Owner,
    credits: Credits,
    body: CreditCommit | None = None,
) -> dict[str, Any]:
    amount = body.amount if body else None
    t = await run_in_threadpool(
        lambda: credits.commit(tenant, reservation_id, amount=amount, owner=owner)
    )
    return {"transfer": t.as_dict()}


@router.post("/credits/reservations/{reservation_id}/cancel", summary="Release a reservation")
@sealing
async def credits_cancel(
    reservation_id: str, tenant: Tenant, owner: Owner, credits: Credits
) -> dict[str, Any]:
    t = await run_in_threadpool(lambda: credits.cancel(tenant, reservation_id, owner=owner))
    return {"transfer": t.as_dict()}
