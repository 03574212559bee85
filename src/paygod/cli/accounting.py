"""`paygod accounts|transfers|reconcile`: the accounting module from the command line."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from paygod.accounting import (
    AccountCode,
    AccountFlags,
    AccountSpec,
    TransferFlags,
    TransferRequest,
    TransferResult,
)
from paygod.accounting.errors import AccountingCode
from paygod.cli.common import JsonFlag, TenantOption, emit, instant, tenant_kernel
from paygod.cli.output import fields_table, table
from paygod.kernel.errors import CheckFailed, FieldError, InvalidInput
from paygod.kernel.jsonio import parse_json

accounts_app = typer.Typer(
    help="Double-entry accounts: open, inspect, audit.", no_args_is_help=True
)
transfers_app = typer.Typer(help="Transfers and holds between accounts.", no_args_is_help=True)
reconcile_app = typer.Typer(help="Match an external statement CSV to an account's transfers.")


def _metadata(text: str | None) -> dict[str, Any]:
    if not text:
        return {}
    value = parse_json(text, source="--metadata")
    if not isinstance(value, dict):
        raise InvalidInput("--metadata must be a JSON object", errors=[FieldError("", "object")])
    return value


def record(data: dict[str, Any], as_json: bool, title: str) -> None:
    """One record: its JSON document, or its fields' table for a person."""
    emit(data, as_json=as_json, human=fields_table(data, title))


def _transfer_out(result: TransferResult, as_json: bool) -> None:
    assert result.transfer is not None
    data = {**result.transfer.as_dict(), "created": result.created}
    record(data, as_json, "transfer" if result.created else "transfer (already recorded)")


# -- accounts ---------------------------------------------------------------------------


@accounts_app.command("create")
def accounts_create(
    ledger: Annotated[str, typer.Option(help="ISO 4217 currency or CREDITS.")],
    code: Annotated[AccountCode, typer.Option(help="Account kind.")],
    id: Annotated[str | None, typer.Option(help="Account id (default: a new UUIDv7).")] = None,
    flag: Annotated[
        list[str] | None,
        typer.Option(help="debits_must_not_exceed_credits | credits_must_not_exceed_debits"),
    ] = None,
    metadata: Annotated[str | None, typer.Option(help="JSON object.")] = None,
    owner: Annotated[
        str | None,
        typer.Option(help="Principal id it belongs to (an agent's wallet: scope own sees it)."),
    ] = None,
    tenant: TenantOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Open an account (idempotent by id)."""
    try:
        flags = AccountFlags.from_names(flag or [])
    except ValueError as exc:
        raise InvalidInput(str(exc), errors=[FieldError("--flag", str(exc))]) from None
    with tenant_kernel(tenant) as (kernel, tenant_id):
        if owner is not None:
            kernel.identity.require_member(tenant_id, owner, "--owner")
        account, _ = kernel.accounting.open_account(
            tenant_id, AccountSpec(ledger, code, id, flags, _metadata(metadata), owner)
        )
    record(account.as_dict(), as_json, "account")


@accounts_app.command("list")
def accounts_list(
    ledger: Annotated[str | None, typer.Option(help="Only this ledger.")] = None,
    tenant: TenantOption = None,
    as_json: JsonFlag = False,
) -> None:
    """List accounts with their balances."""
    with tenant_kernel(tenant) as (kernel, tenant_id):
        found = kernel.accounting.list_accounts(tenant_id, ledger=ledger, limit=1000)
    emit(
        {"accounts": [a.as_dict() for a in found]},
        as_json=as_json,
        human=table(
            ("id", "ledger", "code", "flags", "balance", "available"),
            (
                (a.id, a.ledger, a.code.value, ",".join(a.flags.names()), a.balance, a.available)
                for a in found
            ),
            title="accounts",
        ),
    )


@accounts_app.command("show")
def accounts_show(account_id: str, tenant: TenantOption = None, as_json: JsonFlag = False) -> None:
    """One account with its four running totals."""
    with tenant_kernel(tenant) as (kernel, tenant_id):
        account = kernel.accounting.get_account(tenant_id, account_id)
    record(account.as_dict(), as_json, "account")


@accounts_app.command("balance")
def accounts_balance(
    account_id: str,
    at: Annotated[str | None, typer.Option(help="As of this instant (ISO 8601).")] = None,
    valid_at: Annotated[
        str | None, typer.Option("--valid-at", help="Valid time: the balance on this instant.")
    ] = None,
    recorded_at: Annotated[
        str | None,
        typer.Option("--recorded-at", help="Recorded time: as the books stood at this instant."),
    ] = None,
    tenant: TenantOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Balance now, as of a past instant, or on both axes (--valid-at, --recorded-at)."""
    if valid_at is not None or recorded_at is not None:
        if at is not None:
            raise InvalidInput(
                "--at is recorded time; with --valid-at give --recorded-at instead",
                errors=[FieldError("--at", "not with --valid-at or --recorded-at")],
            )
        valid = instant(valid_at, "--valid-at")
        recorded = instant(recorded_at, "--recorded-at")
        with tenant_kernel(tenant) as (kernel, tenant_id):
            both = kernel.accounting.valid_balance(tenant_id, account_id, valid, recorded)
        record(both.as_dict(), as_json, "balance")
        return
    when = instant(at, "--at")
    with tenant_kernel(tenant) as (kernel, tenant_id):
        result = kernel.accounting.balance(tenant_id, account_id, when)
    record(result.as_dict(), as_json, "balance")


@accounts_app.command("statement")
def accounts_statement(
    account_id: str,
    from_: Annotated[str, typer.Option("--from", help="Start instant (inclusive).")],
    to: Annotated[str, typer.Option("--to", help="End instant (exclusive).")],
    csv_out: Annotated[bool, typer.Option("--csv", help="CSV on stdout.")] = False,
    tenant: TenantOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Opening balance, the period's lines, closing balance."""
    from paygod.accounting.reports import statement_csv

    with tenant_kernel(tenant) as (kernel, tenant_id):
        st = kernel.accounting.statement(
            tenant_id,
            account_id,
            instant(from_, "--from"),
            instant(to, "--to"),
        )
    if csv_out:
        sys.stdout.write(statement_csv(st))
        return
    data = st.as_dict()
    keys = ("timestamp", "transfer_id", "counterparty", "debit", "credit", "balance")
    emit(
        data,
        as_json=as_json,
        human=[
            table(
                ("timestamp", "transfer", "counterparty", "debit", "credit", "balance"),
                ([line[key] for key in keys] for line in data["lines"]),
                title=f"statement {account_id}: opening {data['opening_balance']}",
            ),
            f"closing balance {data['closing_balance']}",
        ],
    )


@accounts_app.command("close")
def accounts_close(account_id: str, tenant: TenantOption = None, as_json: JsonFlag = False) -> None:
    """Close an account to new transfers."""
    with tenant_kernel(tenant) as (kernel, tenant_id):
        account = kernel.accounting.close_account(tenant_id, account_id)
    record(account.as_dict(), as_json, "account")


@accounts_app.command("trial-balance")
def accounts_trial_balance(tenant: TenantOption = None, as_json: JsonFlag = False) -> None:
    """Per ledger: the debit and credit balances must agree (exit 1 if not)."""
    with tenant_kernel(tenant) as (kernel, tenant_id):
        report = kernel.accounting.trial_balance(tenant_id)
    emit(
        report,
        as_json=as_json,
        human=[
            table(
                ("account", "code", "debit", "credit"),
                [
                    *(
                        (r["account_id"], r["code"], r["debit"], r["credit"])
                        for r in ledger["accounts"]
                    ),
                    ("total", "", ledger["total_debits"], ledger["total_credits"]),
                ],
                title=f"trial balance {ledger['ledger']}",
            )
            for ledger in report["ledgers"]
        ],
    )
    if not report["balanced"]:
        raise CheckFailed("the trial balance does not balance")


@accounts_app.command("audit")
def accounts_audit(
    all_tenants: Annotated[bool, typer.Option("--all-tenants")] = False,
    tenant: TenantOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Rebuild every balance from the ledger entries and compare (exit 1 on a mismatch)."""
    with tenant_kernel(tenant) as (kernel, tenant_id):
        report = kernel.accounting.rebuild_check(None if all_tenants else tenant_id)
    emit(
        report.as_dict(),
        as_json=as_json,
        human=[
            f"{'ok' if report.ok else 'MISMATCH'}: {report.accounts_checked} accounts, "
            f"{report.entries_replayed} transfer entries replayed",
            *(
                f"  {m['tenant_id']}/{m['account_id']}: running {m['running']} "
                f"rebuilt {m['rebuilt']}"
                for m in report.mismatches
            ),
        ],
    )
    if not report.ok:
        raise CheckFailed("running totals differ from the ledger")


@accounts_app.command("export")
def accounts_export(
    format: Annotated[str, typer.Option(help="csv or json")] = "csv",
    tenant: TenantOption = None,
) -> None:
    """Every transfer of the tenant, oldest first, as CSV or JSON on stdout."""
    with tenant_kernel(tenant) as (kernel, tenant_id):
        sys.stdout.write(kernel.accounting.export_transfers(tenant_id, format))


# -- transfers --------------------------------------------------------------------------


@transfers_app.command("create")
def transfers_create(
    id: Annotated[str, typer.Option(help="Client-chosen id (retries are idempotent).")],
    debit: Annotated[str, typer.Option(help="Debit account id.")],
    credit: Annotated[str, typer.Option(help="Credit account id.")],
    amount: Annotated[str, typer.Option(help="Integer amount in minor units.")],
    ledger: Annotated[str | None, typer.Option()] = None,
    code: Annotated[str, typer.Option()] = "transfer",
    pending: Annotated[bool, typer.Option("--pending", help="A hold (two-phase).")] = False,
    timeout: Annotated[int, typer.Option(help="Hold timeout in seconds.")] = 0,
    metadata: Annotated[str | None, typer.Option(help="JSON object.")] = None,
    valid_from: Annotated[
        str | None,
        typer.Option("--valid-from", help="Backdate: valid from this past instant (RFC 3339)."),
    ] = None,
    tenant: TenantOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Move money (or hold it with --pending; backdate it with --valid-from)."""
    if not amount.lstrip("-").isdigit():
        raise InvalidInput(
            f"--amount {amount!r} is not an integer number of minor units",
            code=AccountingCode.AMOUNT_MUST_BE_AN_INTEGER,
            errors=[FieldError("--amount", "an integer in minor units")],
        )
    request = TransferRequest(
        id,
        debit,
        credit,
        int(amount),
        ledger,
        code,
        TransferFlags(pending=pending),
        timeout_seconds=timeout,
        metadata=_metadata(metadata),
        valid_from=instant(valid_from, "--valid-from"),
    )
    with tenant_kernel(tenant) as (kernel, tenant_id):
        result = kernel.accounting.transfer(tenant_id, request)
    _transfer_out(result, as_json)


@transfers_app.command("show")
def transfers_show(
    transfer_id: str, tenant: TenantOption = None, as_json: JsonFlag = False
) -> None:
    """One transfer."""
    with tenant_kernel(tenant) as (kernel, tenant_id):
        transfer = kernel.accounting.get_transfer(tenant_id, transfer_id)
    record(transfer.as_dict(), as_json, "transfer")


@transfers_app.command("list")
def transfers_list(tenant: TenantOption = None, as_json: JsonFlag = False) -> None:
    """Transfers of the tenant."""
    with tenant_kernel(tenant) as (kernel, tenant_id):
        found = kernel.accounting.list_transfers(tenant_id, limit=1000)
    emit(
        {"transfers": [t.as_dict() for t in found]},
        as_json=as_json,
        human=table(
            ("id", "state", "debit", "credit", "amount", "ledger"),
            (
                (t.id, t.state.value, t.debit_account_id, t.credit_account_id, t.amount, t.ledger)
                for t in found
            ),
            title="transfers",
        ),
    )


@transfers_app.command("post")
def transfers_post(
    pending_id: str,
    amount: Annotated[int | None, typer.Option(help="Partial amount (default: all).")] = None,
    tenant: TenantOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Post a hold, fully or partly (the rest is released)."""
    with tenant_kernel(tenant) as (kernel, tenant_id):
        result = kernel.accounting.post_pending(tenant_id, pending_id, amount=amount)
    _transfer_out(result, as_json)


@transfers_app.command("void")
def transfers_void(pending_id: str, tenant: TenantOption = None, as_json: JsonFlag = False) -> None:
    """Void a hold, releasing it."""
    with tenant_kernel(tenant) as (kernel, tenant_id):
        result = kernel.accounting.void_pending(tenant_id, pending_id)
    _transfer_out(result, as_json)


@transfers_app.command("reverse")
def transfers_reverse(
    transfer_id: str,
    amount: Annotated[int | None, typer.Option(help="Partial amount (default: the rest).")] = None,
    tenant: TenantOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Reverse a posted transfer with a new transfer that references it."""
    with tenant_kernel(tenant) as (kernel, tenant_id):
        result = kernel.accounting.reverse(tenant_id, transfer_id, amount=amount)
    _transfer_out(result, as_json)


@transfers_app.command("expire")
def transfers_expire(as_json: JsonFlag = False) -> None:
    """Release every hold whose timeout has passed (all tenants)."""
    with tenant_kernel(None) as (kernel, _):
        expired = kernel.accounting.expire_pending()
    emit({"expired": expired}, as_json=as_json, human=f"expired {len(expired)} holds")


# -- reconcile --------------------------------------------------------------------------


@reconcile_app.callback(invoke_without_command=True)
def reconcile(
    statement: Annotated[Path, typer.Option(help="CSV with date, amount, reference columns.")],
    account: Annotated[str, typer.Option(help="The account the statement is for.")],
    window_days: Annotated[int, typer.Option(help="Date window for amount matches.")] = 3,
    tenant: TenantOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Match an external statement to the account's transfers; the report is recorded."""
    from paygod.accounting.reconciliation import Reconciler

    try:
        text = statement.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInput(
            f"cannot read {statement}: {exc}", errors=[FieldError("--statement", str(exc))]
        ) from None
    with tenant_kernel(tenant) as (kernel, tenant_id):
        report = Reconciler(kernel.accounting).reconcile(
            tenant_id, account, text, window_days=window_days
        )
    emit(
        report,
        as_json=as_json,
        human=f"reconciliation {report['id']}: {len(report['matched'])} matched, "
        f"{len(report['unmatched_statement_lines'])} statement lines unmatched, "
        f"{len(report['unmatched_transfers'])} transfers unmatched, "
        f"difference {report['difference']}",
    )
