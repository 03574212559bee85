"""Cash operations over HTTP: branches, tills, deposits, withdrawals, vault moves, counts.

Every write is a transfer (or a sealed count) of the accounting module; refusals are the
accounting codes (`exceeds_debits`: a till paying out more than it holds) or
`cash-limit-exceeded` (a till over its limit), with a pointer.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import Depends, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field, StrictInt

from paygod.api.deps import get_kernel
from paygod.api.models import StrictModel
from paygod.api.receipts import replayed, sealing
from paygod.api.routers.accounting import Tenant
from paygod.api.routing import router as strict_router
from paygod.bootstrap import Kernel
from paygod.cash.service import CashService

router = strict_router(prefix="/cash", tags=["cash"])

Name = Annotated[str, Field(min_length=1, max_length=48)]
Id = Annotated[str, Field(min_length=1, max_length=100)]


def cash_of(kernel: Kernel = Depends(get_kernel)) -> CashService:
    return kernel.cash


Cash = Annotated[CashService, Depends(cash_of)]


class BranchCreate(StrictModel):
    branch: Name
    ledger: str = Field(pattern=r"^[A-Z]{3}$", description="ISO 4217 currency of its cash")


class TillCreate(StrictModel):
    till: Name
    cash_limit: StrictInt = Field(gt=0, description="Most cash the till may hold (minor units)")


class Movement(StrictModel):
    id: Id
    branch: Name
    till: Name
    account_id: Id
    amount: StrictInt


class VaultMove(StrictModel):
    id: Id
    branch: Name
    till: Name
    amount: StrictInt
    direction: Literal["to_vault", "from_vault"]


class CountIn(StrictModel):
    declared: StrictInt = Field(ge=0, description="The teller's count (minor units)")
    id: Id | None = Field(default=None, description="Idempotency: the count's id")


class TillOut(BaseModel):
    branch: str
    till: str
    account_id: str
    ledger: str
    cash_limit: int
    balance: int
    receipt: dict[str, Any] | None = None


class BranchOut(BaseModel):
    branch: str
    ledger: str
    vault: dict[str, Any]
    over_short: dict[str, Any]
    tills: list[dict[str, Any]]
    receipt: dict[str, Any] | None = None


class CashTransferOut(BaseModel):
    id: str
    debit_account_id: str
    credit_account_id: str
    amount: int
    ledger: str
    code: str
    timestamp: str
    created: bool
    receipt: dict[str, Any] | None = None


class CountOut(BaseModel):
    branch: str
    till: str
    declared: int
    book: int
    difference: int
    result: str
    transfer_id: str | None
    receipt: dict[str, Any] | None = None


@router.post("/branches", status_code=201, response_model=BranchOut, summary="Open a branch")
@sealing
async def open_branch(body: BranchCreate, tenant: Tenant, cash: Cash) -> dict[str, Any]:
    return (await run_in_threadpool(cash.open_branch, tenant, body.branch, body.ledger)).as_dict()


@router.get("/branches/{branch}", response_model=BranchOut, summary="Vault, over/short, tills")
async def get_branch(branch: str, tenant: Tenant, cash: Cash) -> dict[str, Any]:
    return (await run_in_threadpool(cash.branch, tenant, branch)).as_dict()


@router.post(
    "/branches/{branch}/tills",
    status_code=201,
    response_model=TillOut,
    summary="Open a till",
    responses=replayed(TillOut),
)
@sealing
async def open_till(branch: str, body: TillCreate, tenant: Tenant, cash: Cash) -> dict[str, Any]:
    till = await run_in_threadpool(cash.open_till, tenant, branch, body.till, body.cash_limit)
    return till.as_dict()


async def _moved(response: Response, result: dict[str, Any]) -> dict[str, Any]:
    if not result["created"]:
        response.status_code = 200
    return result


@router.post("/deposits", status_code=201, response_model=CashTransferOut, summary="Cash in")
@sealing
async def deposit(body: Movement, response: Response, tenant: Tenant, cash: Cash) -> Any:
    args = (tenant, body.id, body.branch, body.till, body.account_id, body.amount)
    return await _moved(response, await run_in_threadpool(cash.deposit, *args))


@router.post("/withdrawals", status_code=201, response_model=CashTransferOut, summary="Cash out")
@sealing
async def withdraw(body: Movement, response: Response, tenant: Tenant, cash: Cash) -> Any:
    args = (tenant, body.id, body.branch, body.till, body.account_id, body.amount)
    return await _moved(response, await run_in_threadpool(cash.withdraw, *args))


@router.post(
    "/vault-transfers",
    status_code=201,
    response_model=CashTransferOut,
    summary="Move cash between a till and its branch's vault",
)
@sealing
async def vault_transfer(body: VaultMove, response: Response, tenant: Tenant, cash: Cash) -> Any:
    move = cash.to_vault if body.direction == "to_vault" else cash.from_vault
    args = (tenant, body.id, body.branch, body.till, body.amount)
    return await _moved(response, await run_in_threadpool(move, *args))


@router.post(
    "/branches/{branch}/tills/{till}/count",
    status_code=201,
    response_model=CountOut,
    summary="End-of-day balancing: the declared count against the book, over/short posted",
)
@sealing
async def count(branch: str, till: str, body: CountIn, tenant: Tenant, cash: Cash) -> Any:
    found = await run_in_threadpool(cash.count, tenant, branch, till, body.declared, body.id)
    return found.as_dict()
