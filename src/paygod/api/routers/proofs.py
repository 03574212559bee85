"""Balance proofs over HTTP: close a period (sealed statements), read it, prove one account.

A proof is the document `paygod/ledger/balance_verifier.py` checks on its own: the
account's salted statement, its Merkle sum path, the root, the `balance_period` ledger
entry, an RFC 9162 inclusion proof and a signed tree head.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Query, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from paygod.accounting.proofs import BalanceProofs
from paygod.api.deps import get_kernel
from paygod.api.models import StrictModel, query_instant
from paygod.api.receipts import replayed, sealing
from paygod.api.routers.accounting import Owner, Tenant
from paygod.api.routing import router as strict_router
from paygod.bootstrap import Kernel

router = strict_router(tags=["accounting"])


def proofs_of(kernel: Kernel = Depends(get_kernel)) -> BalanceProofs:
    return kernel.balance_proofs


Proofs = Annotated[BalanceProofs, Depends(proofs_of)]


class PeriodClose(StrictModel):
    period: str = Field(min_length=1, max_length=64, description="e.g. 2026-03 or eod-17")
    until: str | None = Field(
        default=None, max_length=40, description="End of the period (valid time); default now"
    )


class PeriodOut(BaseModel):
    tenant_id: str
    period: str
    until: str
    closed_at: str
    root_hash: str
    sums: dict[str, list[str]] = Field(description="currency -> [debits, credits], decimal")
    accounts: int
    receipt: dict[str, Any] | None = None


class BalanceProofOut(BaseModel):
    format: str
    statement: dict[str, Any]
    path: list[dict[str, Any]]
    root: dict[str, Any]
    period_entry: dict[str, Any]
    inclusion: dict[str, Any]
    tree_head: dict[str, Any]


@router.post(
    "/periods",
    status_code=201,
    response_model=PeriodOut,
    summary="Close a period now: every account's statement sealed in a Merkle sum tree",
    responses=replayed(PeriodOut),
)
@sealing
async def close_period(
    body: PeriodClose, response: Response, tenant: Tenant, proofs: Proofs
) -> dict[str, Any]:
    until = query_instant(body.until, "until") if body.until else None
    sealed, created = await run_in_threadpool(proofs.close_period, tenant, body.period, until)
    if not created:
        response.status_code = 200
    return sealed.as_dict()


@router.get("/periods/{period}", response_model=PeriodOut, summary="A closed period's root")
async def get_period(period: str, tenant: Tenant, proofs: Proofs) -> dict[str, Any]:
    return (await run_in_threadpool(proofs.get_period, tenant, period)).as_dict()


@router.get(
    "/accounts/{account_id}/statement-proof",
    response_model=BalanceProofOut,
    summary="The account's statement in a closed period, provable against a signed head",
)
async def statement_proof(
    account_id: str,
    tenant: Tenant,
    owner: Owner,
    proofs: Proofs,
    period: Annotated[str, Query(min_length=1, max_length=64)],
) -> dict[str, Any]:
    return await run_in_threadpool(proofs.prove, tenant, account_id, period, owner)
