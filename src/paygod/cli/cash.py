"""`paygod cash ...`: branches, tills, cash in and out, vault moves, the end-of-day count."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated, Any

import typer

from paygod.cli.accounting import TenantOpt
from paygod.cli.common import JsonFlag, tenant_kernel
from paygod.cli.output import console, emit_json

if TYPE_CHECKING:
    from paygod.cash.service import CashService

app = typer.Typer(
    name="cash", help="Cash operations: branches, tills, vaults, counts.", no_args_is_help=True
)
Branch = Annotated[str, typer.Option(help="Branch (cash point) name.")]
Till = Annotated[str, typer.Option(help="Till name within the branch.")]
Amount = Annotated[int, typer.Option(help="Amount in minor units.")]
Id = Annotated[str, typer.Option(help="Transfer id (retries are idempotent).")]


@contextmanager
def _cash(tenant: str | None) -> Iterator[tuple[CashService, str]]:
    with tenant_kernel(tenant) as (kernel, tenant_id):
        yield kernel.cash, tenant_id


def _out(data: dict[str, Any], as_json: bool, title: str) -> None:
    if as_json:
        emit_json(data)
        return
    console.print(f"[bold]{title}[/bold]")
    for key, value in data.items():
        console.print(f"  {key}: {value}")


@app.command("open-branch")
def open_branch(
    branch: Branch, ledger: Annotated[str, typer.Option(help="Currency, e.g. EUR.")],
    tenant: TenantOpt = None, as_json: JsonFlag = False,
) -> None:  # fmt: skip
    """Open a branch: its vault and over/short accounts."""
    with _cash(tenant) as (cash, tenant_id):
        _out(cash.open_branch(tenant_id, branch, ledger).as_dict(), as_json, "branch")


@app.command("open-till")
def open_till(
    branch: Branch, till: Till, cash_limit: Annotated[int, typer.Option(help="Most cash held.")],
    tenant: TenantOpt = None, as_json: JsonFlag = False,
) -> None:  # fmt: skip
    """Open a till with a cash limit."""
    with _cash(tenant) as (cash, tenant_id):
        _out(cash.open_till(tenant_id, branch, till, cash_limit).as_dict(), as_json, "till")


@app.command("show")
def show(branch: Branch, tenant: TenantOpt = None, as_json: JsonFlag = False) -> None:
    """A branch: vault, over/short and every till with its balance and limit."""
    with _cash(tenant) as (cash, tenant_id):
        _out(cash.branch(tenant_id, branch).as_dict(), as_json, "branch")


@app.command("deposit")
def deposit(
    id: Id, branch: Branch, till: Till, account: Annotated[str, typer.Option()], amount: Amount,
    tenant: TenantOpt = None, as_json: JsonFlag = False,
) -> None:  # fmt: skip
    """Cash in at a till, credited to ACCOUNT."""
    with _cash(tenant) as (cash, tenant_id):
        _out(cash.deposit(tenant_id, id, branch, till, account, amount), as_json, "deposit")


@app.command("withdraw")
def withdraw(
    id: Id, branch: Branch, till: Till, account: Annotated[str, typer.Option()], amount: Amount,
    tenant: TenantOpt = None, as_json: JsonFlag = False,
) -> None:  # fmt: skip
    """Cash out at a till, debited to ACCOUNT."""
    with _cash(tenant) as (cash, tenant_id):
        _out(cash.withdraw(tenant_id, id, branch, till, account, amount), as_json, "withdrawal")


@app.command("to-vault")
def to_vault(
    id: Id, branch: Branch, till: Till, amount: Amount,
    tenant: TenantOpt = None, as_json: JsonFlag = False,
) -> None:  # fmt: skip
    """Move cash from a till to its branch's vault."""
    with _cash(tenant) as (cash, tenant_id):
        _out(cash.to_vault(tenant_id, id, branch, till, amount), as_json, "to vault")


@app.command("from-vault")
def from_vault(
    id: Id, branch: Branch, till: Till, amount: Amount,
    tenant: TenantOpt = None, as_json: JsonFlag = False,
) -> None:  # fmt: skip
    """Move cash from the branch's vault to a till (the till's limit applies)."""
    with _cash(tenant) as (cash, tenant_id):
        _out(cash.from_vault(tenant_id, id, branch, till, amount), as_json, "from vault")


@app.command("count")
def count(
    branch: Branch, till: Till,
    declared: Annotated[int, typer.Option(help="The teller's count, minor units.")],
    id: Annotated[str | None, typer.Option(help="The count's id (idempotent).")] = None,
    tenant: TenantOpt = None, as_json: JsonFlag = False,
) -> None:  # fmt: skip
    """End-of-day balancing: post the over/short between the declared count and the book."""
    with _cash(tenant) as (cash, tenant_id):
        result = cash.count(tenant_id, branch, till, declared, id)
    _out(result.as_dict(), as_json, "count")
