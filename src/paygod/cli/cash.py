"""`paygod cash ...`: branches, tills, cash in and out, vault moves, the end-of-day count."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import RenderableType

from paygod.cli.common import JsonFlag, TenantOption, emit, tenant_kernel
from paygod.cli.output import key_values, styled

if TYPE_CHECKING:
    from paygod.cash.service import CashService

app = typer.Typer(
    name="cash", help="Cash operations: branches, tills, vaults, counts.", no_args_is_help=True
)
Branch = Annotated[str, typer.Option(help="Branch (cash point) name.")]
Till = Annotated[str, typer.Option(help="Till name within the branch.")]
Amount = Annotated[int, typer.Option(help="Amount in minor units.")]
Id = Annotated[str, typer.Option(help="Transfer id (retries are idempotent).")]


def _cash(
    tenant: str | None, as_json: bool, title: str, act: Callable[[CashService, str], dict[str, Any]]
) -> None:
    """Run one cash operation for the tenant and show its result under `title`."""
    with tenant_kernel(tenant) as (kernel, tenant_id):
        data = act(kernel.cash, tenant_id)
    shown: list[RenderableType] = [styled((title, "bold")), *key_values(data)]
    emit(data, as_json=as_json, human=shown)


@app.command("open-branch")
def open_branch(
    branch: Branch, ledger: Annotated[str, typer.Option(help="Currency, e.g. EUR.")],
    tenant: TenantOption = None, as_json: JsonFlag = False,
) -> None:  # fmt: skip
    """Open a branch: its vault and over/short accounts."""
    _cash(
        tenant,
        as_json,
        "branch",
        lambda cash, tenant_id: cash.open_branch(tenant_id, branch, ledger).as_dict(),
    )


@app.command("open-till")
def open_till(
    branch: Branch, till: Till, cash_limit: Annotated[int, typer.Option(help="Most cash held.")],
    tenant: TenantOption = None, as_json: JsonFlag = False,
) -> None:  # fmt: skip
    """Open a till with a cash limit."""
    _cash(
        tenant,
        as_json,
        "till",
        lambda cash, tenant_id: cash.open_till(tenant_id, branch, till, cash_limit).as_dict(),
    )


@app.command("show")
def show(branch: Branch, tenant: TenantOption = None, as_json: JsonFlag = False) -> None:
    """A branch: vault, over/short and every till with its balance and limit."""
    _cash(
        tenant, as_json, "branch", lambda cash, tenant_id: cash.branch(tenant_id, branch).as_dict()
    )


@app.command("deposit")
def deposit(
    id: Id, branch: Branch, till: Till, account: Annotated[str, typer.Option()], amount: Amount,
    tenant: TenantOption = None, as_json: JsonFlag = False,
) -> None:  # fmt: skip
    """Cash in at a till, credited to ACCOUNT."""
    _cash(
        tenant,
        as_json,
        "deposit",
        lambda cash, tenant_id: cash.deposit(tenant_id, id, branch, till, account, amount),
    )


@app.command("withdraw")
def withdraw(
    id: Id, branch: Branch, till: Till, account: Annotated[str, typer.Option()], amount: Amount,
    tenant: TenantOption = None, as_json: JsonFlag = False,
) -> None:  # fmt: skip
    """Cash out at a till, debited to ACCOUNT."""
    _cash(
        tenant,
        as_json,
        "withdrawal",
        lambda cash, tenant_id: cash.withdraw(tenant_id, id, branch, till, account, amount),
    )


@app.command("to-vault")
def to_vault(
    id: Id, branch: Branch, till: Till, amount: Amount,
    tenant: TenantOption = None, as_json: JsonFlag = False,
) -> None:  # fmt: skip
    """Move cash from a till to its branch's vault."""
    _cash(
        tenant,
        as_json,
        "to vault",
        lambda cash, tenant_id: cash.to_vault(tenant_id, id, branch, till, amount),
    )


@app.command("from-vault")
def from_vault(
    id: Id, branch: Branch, till: Till, amount: Amount,
    tenant: TenantOption = None, as_json: JsonFlag = False,
) -> None:  # fmt: skip
    """Move cash from the branch's vault to a till (the till's limit applies)."""
    _cash(
        tenant,
        as_json,
        "from vault",
        lambda cash, tenant_id: cash.from_vault(tenant_id, id, branch, till, amount),
    )


@app.command("count")
def count(
    branch: Branch, till: Till,
    declared: Annotated[int, typer.Option(help="The teller's count, minor units.")],
    id: Annotated[str | None, typer.Option(help="The count's id (idempotent).")] = None,
    tenant: TenantOption = None, as_json: JsonFlag = False,
) -> None:  # fmt: skip
    """End-of-day balancing: post the over/short between the declared count and the book."""
    _cash(
        tenant,
        as_json,
        "count",
        lambda cash, tenant_id: cash.count(tenant_id, branch, till, declared, id).as_dict(),
    )
