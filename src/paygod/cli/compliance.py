"""`paygod sanctions import|screen|snapshots|threshold` and `paygod kyc verify|status|refresh`
against the local kernel."""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from paygod.cli.common import JsonFlag, tenant_kernel
from paygod.cli.output import console, emit_json

sanctions_app = typer.Typer(
    name="sanctions", help="Sanctions lists: import, screen, snapshots.", no_args_is_help=True
)
kyc_app = typer.Typer(
    name="kyc", help="KYC: verify subjects, read their status.", no_args_is_help=True
)

TenantOpt = Annotated[str | None, typer.Option("--tenant", help="Tenant (default PAYGOD_TENANT).")]


def _actor() -> str:
    import getpass

    return f"cli:{getpass.getuser()}"


@sanctions_app.command("import")
def import_list(
    file: Annotated[
        Path, typer.Argument(help="The list file (ofac-csv: sdn.csv, alt.csv beside it).")
    ],
    format: Annotated[
        str, typer.Option("--format", help="ofac-xml, ofac-csv, eu-xml, un-xml or uk-csv.")
    ],
    source: Annotated[
        str | None, typer.Option(help="Where the file came from (URL), recorded with it.")
    ] = None,
    tenant: TenantOpt = None,
    as_json: JsonFlag = False,
) -> None:
    """Load a list into a new, ledgered snapshot and switch screening to it atomically."""
    from paygod.compliance.model import FORMATS

    if format not in FORMATS:  # checked before the kernel opens: nothing to open for it
        from paygod.compliance.lists import unknown_format

        raise unknown_format(format)
    with tenant_kernel(tenant) as (kernel, tenant_id):
        outcome = kernel.compliance.screening.import_list(
            tenant_id, file, format, source=source, actor=_actor()
        )
    data = outcome.as_dict()
    if as_json:
        emit_json(data)
        return
    if outcome.unchanged:
        console.print(f"{data['list']}: unchanged (version {data['version']}, {data['digest']})")
        return
    delta = data["delta"]
    console.print(
        f"{data['list']} version {data['version']}: {data['entry_count']} entries, "
        f"{data['digest']} (+{delta['added']} ~{delta['changed']} -{delta['removed']}); "
        f"re-screened {data['rescreened']} subjects, {len(data['new_hits'])} new hits; "
        f"seq {data['seq']}"
    )


@sanctions_app.command("screen")
def screen(
    name: Annotated[str, typer.Option("--name", help="The name to screen.")],
    dob: Annotated[str | None, typer.Option("--dob", help="YYYY, YYYY-MM or YYYY-MM-DD.")] = None,
    country: Annotated[
        str | None, typer.Option("--country", help="ISO 3166-1 alpha-2 nationality.")
    ] = None,
    tenant: TenantOpt = None,
    as_json: JsonFlag = False,
) -> None:
    """Screen one name against the active snapshots of every list (bundled samples when
    none was imported). Exit 0 either way; `decision` says hit or no-hit."""
    from paygod.compliance.query import parse_query

    body: dict[str, Any] = {"name": name}
    if dob is not None:
        body["dob"] = dob
    if country is not None:
        body["country"] = country
    query, _ = parse_query(body, allow_subject=False)
    with tenant_kernel(tenant) as (kernel, tenant_id):
        service = kernel.compliance.screening
        _, _, bundled = service.index_for(tenant_id)
        result = service.screen(tenant_id, query)
    if bundled:
        sys.stderr.write(
            "note: no sanctions list imported yet; screened against the bundled sample lists\n"
        )
    if as_json:
        emit_json(result.as_dict())
        return
    console.print(f"{result.decision} (threshold {result.threshold})")
    for hit in result.hits:
        console.print(
            f"  {hit.score:.4f}  {hit.list} {hit.entry_id} {hit.reference or '-'}  {hit.name}"
        )


@sanctions_app.command("snapshots")
def snapshots(
    list_name: Annotated[str | None, typer.Option("--list", help="ofac, eu, un or uk.")] = None,
    tenant: TenantOpt = None,
    as_json: JsonFlag = False,
) -> None:
    """Every imported version of each list, the active one marked."""
    with tenant_kernel(tenant) as (kernel, tenant_id):
        found = [s.as_dict() for s in kernel.compliance.screening.snapshots(tenant_id, list_name)]
    if as_json:
        emit_json({"snapshots": found})
        return
    for s in found:
        mark = "*" if s["active"] else " "
        console.print(
            f"{mark} {s['list']} v{s['version']} {s['format']} {s['entry_count']} entries "
            f"{s['digest']} {s['imported_at']} ({s['source']})"
        )


@sanctions_app.command("threshold")
def threshold(
    value: Annotated[
        float | None, typer.Argument(help="New threshold (0.5-1); omit to read.")
    ] = None,
    tenant: TenantOpt = None,
    as_json: JsonFlag = False,
) -> None:
    """Read or set the tenant's hit threshold (ledgered when set)."""
    with tenant_kernel(tenant) as (kernel, tenant_id):
        service = kernel.compliance.screening
        if value is None:
            data: dict[str, Any] = {
                "tenant_id": tenant_id,
                "threshold": service.threshold(tenant_id),
            }
        else:
            data = service.set_threshold(tenant_id, value, actor=_actor())
    if as_json:
        emit_json(data)
    else:
        console.print(f"{data['tenant_id']}: threshold {data['threshold']}")


@kyc_app.command("verify")
def kyc_verify(
    subject: Annotated[str, typer.Option(help="The subject (customer:42, account:acc-1...).")],
    check: Annotated[str, typer.Option(help="identity or document.")] = "identity",
    data: Annotated[
        Path | None, typer.Option(help="JSON file with the identity or document fields.")
    ] = None,
    provider: Annotated[
        str | None, typer.Option(help="Provider name (default: the first).")
    ] = None,
    tenant: TenantOpt = None,
    as_json: JsonFlag = False,
) -> None:
    """Run a KYC check through a provider and record the subject's status."""
    from paygod.kernel.jsonio import read_json_file

    body: dict[str, Any] = {"subject": subject, "check": check}
    if data is not None:
        body["data"] = read_json_file(data)
    if provider is not None:
        body["provider"] = provider
    with tenant_kernel(tenant) as (kernel, tenant_id):
        result = kernel.compliance.kyc.verify(tenant_id, body, actor=_actor())
    _print_kyc(result, as_json)


@kyc_app.command("status")
def kyc_status(
    subject: Annotated[str, typer.Argument(help="The subject.")],
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="RFC 3339 instant: the status then.")
    ] = None,
    tenant: TenantOpt = None,
    as_json: JsonFlag = False,
) -> None:
    """A subject's KYC level, status and expiry (now, or as of a past instant)."""
    from paygod.kernel.clock import parse_instant
    from paygod.kernel.errors import FieldError, InvalidInput

    when: datetime | None = None
    if as_of is not None:
        try:
            when = parse_instant(as_of)
        except ValueError:
            raise InvalidInput(
                "invalid --as-of", errors=[FieldError("/as_of", "expected an RFC 3339 instant")]
            ) from None
    with tenant_kernel(tenant) as (kernel, tenant_id):
        result = kernel.compliance.kyc.status(tenant_id, subject, as_of=when)
    _print_kyc(result, as_json)


@kyc_app.command("refresh")
def kyc_refresh(
    subject: Annotated[str, typer.Argument(help="The subject with a pending check.")],
    tenant: TenantOpt = None,
    as_json: JsonFlag = False,
) -> None:
    """Ask the provider again about a pending check and record what it says."""
    with tenant_kernel(tenant) as (kernel, tenant_id):
        result = kernel.compliance.kyc.refresh(tenant_id, subject, actor=_actor())
    _print_kyc(result, as_json)


def _print_kyc(result: dict[str, Any], as_json: bool) -> None:
    if as_json:
        emit_json(result)
        return
    level = result.get("effective_level", result["level"])
    console.print(
        f"{result['subject']}: {result['status']} level {level}"
        + (f", expires {result['expires_at']}" if result.get("expires_at") else "")
    )
