"""`paygod sanctions import|screen|snapshots|threshold` and `paygod kyc verify|status|refresh`
against the local kernel."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from paygod.cli.common import JsonFlag, TenantOption, emit, instant, tenant_kernel

sanctions_app = typer.Typer(
    name="sanctions", help="Sanctions lists: import, screen, snapshots.", no_args_is_help=True
)
kyc_app = typer.Typer(
    name="kyc", help="KYC: verify subjects, read their status.", no_args_is_help=True
)


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
    tenant: TenantOption = None,
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
    emit(outcome.as_dict(), as_json=as_json, human=_import_line)


def _import_line(data: dict[str, Any]) -> str:
    if data["unchanged"]:
        return f"{data['list']}: unchanged (version {data['version']}, {data['digest']})"
    delta = data["delta"]
    return (
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
    tenant: TenantOption = None,
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
    emit(
        result.as_dict(),
        as_json=as_json,
        human=[
            f"{result.decision} (threshold {result.threshold})",
            *(
                f"  {hit.score:.4f}  {hit.list} {hit.entry_id} {hit.reference or '-'}  {hit.name}"
                for hit in result.hits
            ),
        ],
    )


@sanctions_app.command("snapshots")
def snapshots(
    list_name: Annotated[str | None, typer.Option("--list", help="ofac, eu, un or uk.")] = None,
    tenant: TenantOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Every imported version of each list, the active one marked."""
    with tenant_kernel(tenant) as (kernel, tenant_id):
        found = [s.as_dict() for s in kernel.compliance.screening.snapshots(tenant_id, list_name)]
    emit(
        {"snapshots": found},
        as_json=as_json,
        human=[
            f"{'*' if s['active'] else ' '} {s['list']} v{s['version']} {s['format']} "
            f"{s['entry_count']} entries {s['digest']} {s['imported_at']} ({s['source']})"
            for s in found
        ],
    )


@sanctions_app.command("threshold")
def threshold(
    value: Annotated[
        float | None, typer.Argument(help="New threshold (0.5-1); omit to read.")
    ] = None,
    tenant: TenantOption = None,
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
    emit(data, as_json=as_json, human=f"{data['tenant_id']}: threshold {data['threshold']}")


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
    tenant: TenantOption = None,
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
    emit(result, as_json=as_json, human=_kyc_line)


@kyc_app.command("status")
def kyc_status(
    subject: Annotated[str, typer.Argument(help="The subject.")],
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="RFC 3339 instant: the status then.")
    ] = None,
    tenant: TenantOption = None,
    as_json: JsonFlag = False,
) -> None:
    """A subject's KYC level, status and expiry (now, or as of a past instant)."""
    when = instant(as_of, "--as-of", "/as_of")
    with tenant_kernel(tenant) as (kernel, tenant_id):
        result = kernel.compliance.kyc.status(tenant_id, subject, as_of=when)
    emit(result, as_json=as_json, human=_kyc_line)


@kyc_app.command("refresh")
def kyc_refresh(
    subject: Annotated[str, typer.Argument(help="The subject with a pending check.")],
    tenant: TenantOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Ask the provider again about a pending check and record what it says."""
    with tenant_kernel(tenant) as (kernel, tenant_id):
        result = kernel.compliance.kyc.refresh(tenant_id, subject, actor=_actor())
    emit(result, as_json=as_json, human=_kyc_line)


def _kyc_line(result: dict[str, Any]) -> str:
    level = result.get("effective_level", result["level"])
    return f"{result['subject']}: {result['status']} level {level}" + (
        f", expires {result['expires_at']}" if result.get("expires_at") else ""
    )
