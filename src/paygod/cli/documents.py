"""`paygod documents ...`: store a file by its digest, read it back (audited), list."""

from __future__ import annotations

import getpass
import mimetypes
from pathlib import Path
from typing import Annotated

import typer

from paygod.cli.common import JsonFlag, TenantOption, emit, tenant_kernel
from paygod.cli.output import key_values, row_lines
from paygod.kernel.errors import FieldError, InvalidInput

app = typer.Typer(
    name="documents",
    help="Documents: statements, contracts, KYC files by content digest.",
    no_args_is_help=True,
)


@app.command("put")
def put(
    file: Annotated[Path, typer.Argument(help="The file to store.")],
    kind: Annotated[str, typer.Option(help="statement, contract, kyc or other.")],
    media_type: Annotated[str | None, typer.Option(help="Default: guessed from the name.")] = None,
    owner: Annotated[str | None, typer.Option(help="Owner subject, e.g. customer:42.")] = None,
    retention: Annotated[str | None, typer.Option(help="books_10y, aml_5y, transient_30d.")] = None,
    tenant: TenantOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Store FILE; its sha256 and metadata are sealed in the ledger."""
    try:
        content = file.read_bytes()
    except OSError as exc:
        raise InvalidInput(
            f"cannot read {file}: {exc.strerror}", errors=[FieldError("/file", "unreadable")]
        ) from None
    media = media_type or mimetypes.guess_type(file.name)[0] or "application/octet-stream"
    with tenant_kernel(tenant) as (kernel, tenant_id):
        document = kernel.documents.put(
            tenant_id,
            kind=kind,
            media_type=media,
            content=content,
            owner_subject=owner,
            retention_class=retention,
            actor=getpass.getuser(),
        )
    emit(
        document.as_dict(),
        as_json=as_json,
        human=f"stored {document.document_id} {document.digest} ({document.size} bytes)",
    )


@app.command("get")
def get(
    document_id: str,
    out: Annotated[Path | None, typer.Option(help="Write the content here (audited).")] = None,
    tenant: TenantOption = None,
    as_json: JsonFlag = False,
) -> None:
    """A document's metadata; with --out, its content too (the read is sealed)."""
    with tenant_kernel(tenant) as (kernel, tenant_id):
        if out is None:
            document = kernel.documents.get(tenant_id, document_id)
        else:
            document, content = kernel.documents.content(
                tenant_id, document_id, actor=getpass.getuser()
            )
            out.write_bytes(content)
            out.chmod(0o600)
    emit(document.as_dict(), as_json=as_json, human=key_values)


@app.command("list")
def list_(
    owner: Annotated[str | None, typer.Option(help="Only this owner subject's.")] = None,
    tenant: TenantOption = None,
    as_json: JsonFlag = False,
) -> None:
    """The tenant's documents."""
    with tenant_kernel(tenant) as (kernel, tenant_id):
        rows = [d.as_dict() for d in kernel.documents.find(tenant_id, owner)]
    emit(
        {"documents": rows},
        as_json=as_json,
        human=row_lines(rows, "document_id", "kind", "digest", "size"),
    )
