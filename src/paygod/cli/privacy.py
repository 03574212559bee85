"""`paygod gdpr put|show|erase|export|hold|release` and `paygod retention set|show|run`
on the local kernel (docs/privacy.md)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import orjson
import typer

from paygod.cli.common import AsOption, JsonFlag, TenantOption, actor, emit, tenant_kernel
from paygod.cli.output import console, emit_json

gdpr_app = typer.Typer(
    name="gdpr", help="Personal data: vault, erasure, subject access, holds.", no_args_is_help=True
)
retention_app = typer.Typer(
    name="retention", help="Retention policies per data class, and runs.", no_args_is_help=True
)

SubjectArg = Annotated[str, typer.Argument(help="The data subject's URN (urn:...).")]


@gdpr_app.command("put")
def put(
    subject: SubjectArg,
    data: Annotated[Path, typer.Option("--data", help="A JSON object file of personal data.")],
    record_class: Annotated[
        str, typer.Option("--class", help="payee, account, payment, kyc or other.")
    ] = "other",
    tenant: TenantOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Seal personal data in the vault under the subject's key (the ledger gets its digest)."""
    from paygod.kernel.jsonio import read_json_file

    body = read_json_file(data)
    with tenant_kernel(tenant) as (kernel, tenant_id):
        record, entry = kernel.privacy.vault.put(tenant_id, subject, record_class, body)
    result = {**record.reference(), "seq": entry.seq}
    emit(
        result,
        as_json=as_json,
        human=f"sealed {result['record']} ({result['digest']}) at #{result['seq']}",
    )


@gdpr_app.command("show")
def show(
    record: Annotated[str, typer.Argument(help="urn:paygod:vault:<id>")],
    tenant: TenantOption = None,
    as_json: JsonFlag = False,
) -> None:
    """A vault record decrypted (exit 1 'gone' once its subject was erased)."""
    with tenant_kernel(tenant) as (kernel, tenant_id):
        found = kernel.privacy.vault.read(tenant_id, record)
    emit(
        found, as_json=as_json, human=lambda r: orjson.dumps(r, option=orjson.OPT_INDENT_2).decode()
    )


@gdpr_app.command("erase")
def erase(
    subject: SubjectArg,
    tenant: TenantOption = None,
    as_: AsOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Destroy the subject's key (crypto-shredding) and record a gdpr.erasure entry."""
    with tenant_kernel(tenant) as (kernel, tenant_id):
        result = kernel.privacy.vault.erase(tenant_id, subject, actor(as_))
    emit(
        result,
        as_json=as_json,
        human=f"erased {result['subject']} at {result['erased_at']}: {result['records']} "
        f"record(s) shredded, recorded at #{result['seq']}",
    )


@gdpr_app.command("export")
def export(
    subject: SubjectArg,
    out: Annotated[
        Path | None, typer.Option("--out", help="File, written 0600 (default stdout).")
    ] = None,
    tenant: TenantOption = None,
    as_: AsOption = None,
) -> None:
    """Everything held about the subject as one JSON document; recorded as gdpr.access."""
    with tenant_kernel(tenant) as (kernel, tenant_id):
        result = kernel.privacy.vault.export(tenant_id, subject, actor(as_))
    if out is None:
        emit_json(result)
        return
    _write_private(out, orjson.dumps(result, option=orjson.OPT_INDENT_2) + b"\n")
    console.print(f"wrote {out} ({result['digest']}); access recorded at #{result['access_seq']}")


def _write_private(path: Path, data: bytes) -> None:
    """The export holds personal data: only its owner may read the file."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.replace(tmp, path)


@gdpr_app.command("hold")
def hold(
    subject: SubjectArg,
    reason: Annotated[str, typer.Option("--reason", help="Why (a case, a litigation).")],
    tenant: TenantOption = None,
    as_: AsOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Place a legal hold: the subject cannot be erased, retention skips them."""
    with tenant_kernel(tenant) as (kernel, tenant_id):
        placed = kernel.privacy.retention.hold(tenant_id, subject, reason, actor(as_))
    emit(
        placed.as_dict(),
        as_json=as_json,
        human=lambda r: f"legal hold on {r['subject']}: {r['reason']}",
    )


@gdpr_app.command("release")
def release(
    subject: SubjectArg,
    tenant: TenantOption = None,
    as_: AsOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Release the subject's legal hold."""
    with tenant_kernel(tenant) as (kernel, tenant_id):
        result = kernel.privacy.retention.release(tenant_id, subject, actor(as_))
    emit(result, as_json=as_json, human=f"legal hold on {result['subject']} released")


@retention_app.command("set")
def set_policy(
    data_class: Annotated[str, typer.Argument(help="vault, access_logs or exports.")],
    max_age_days: Annotated[int, typer.Option("--max-age-days", min=1, max=36_500)],
    tenant: TenantOption = None,
    as_: AsOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Keep a data class at most this many days."""
    with tenant_kernel(tenant) as (kernel, tenant_id):
        policy = kernel.privacy.retention.set_policy(
            tenant_id, data_class, max_age_days, actor(as_)
        )
    emit(
        policy.as_dict(),
        as_json=as_json,
        human=lambda r: f"{r['data_class']}: at most {r['max_age_days']} days",
    )


@retention_app.command("show")
def show_policies(tenant: TenantOption = None, as_json: JsonFlag = False) -> None:
    """The tenant's policies and legal holds."""
    with tenant_kernel(tenant) as (kernel, tenant_id):
        result = {
            "policies": [p.as_dict() for p in kernel.privacy.retention.policies(tenant_id)],
            "holds": [h.as_dict() for h in kernel.privacy.retention.holds(tenant_id)],
        }
    emit(
        result,
        as_json=as_json,
        human=[
            *(
                f"{p['data_class']:<12} {p['max_age_days']} days"
                for p in result["policies"] or [{"data_class": "(none)", "max_age_days": "-"}]
            ),
            *(f"hold {h['subject']}: {h['reason']}" for h in result["holds"]),
        ],
    )


@retention_app.command("run")
def run(tenant: TenantOption = None, as_: AsOption = None, as_json: JsonFlag = False) -> None:
    """Apply the policies now; the run is sealed as retention.run."""
    with tenant_kernel(tenant) as (kernel, tenant_id):
        result = kernel.privacy.retention.run(tenant_id, actor(as_))
    emit(result, as_json=as_json, human=f"retention run #{result['seq']}: {result['counts']}")
