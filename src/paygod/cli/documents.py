"""`paygod documents ...`: store a file by its digest, read it back (audited), list."""

from __future__ import annotations

import getpass
import mimetypes
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from paygod.cli.accounting import TenantOpt
from paygod.cli.common import JsonFlag, tenant_kernel
from paygod.cli.output import console, emit_json
from paygod.kernel.errors import FieldError, InvalidInput

if TYPE_CHECKING:
    from paygod.documents.service import DocumentService

app = typer.Typer(
    name="documents",
    help="Documents: statements, contracts, KYC files by content digest.",
    no_args_is_help=True,
)


@contextmanager
def _service(tenant: str | None) -> Iterator[tuple[DocumentService, str]]:
    with tenant_kernel(tenant) as (kernel, tenant_id):
        yield kernel.documents, tenant_id


@app.command("put")
def put(
    file: Annotated[Path, typer.Argument(help="The file to store.")],
    kind: Annotated[str, typer.Option(help="statement, contract, kyc or other.")],
    media_type: Annotated[str | None, typer.Option(help="Default: guessed from the name.")] = None,
    owner: Annotated[str | None, typer.Option(help="Owner subject, e.g. customer:42.")] = None,
    retention: Annotated[str | None, typer.Option(help="books_10y, aml_5y, transient_30d.")] = None,
    tenant: TenantOpt = None,
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
    with _service(tenant) as (service, tenant_id):
        document = service.put(
            tenant_id,
            kind=kind,
            media_type=media,
            content=content,
            owner_subject=owner,
            retention_class=retention,
            actor=getpass.getuser(),
        )
    if as_json:
        emit_json(document.as_dict())
    else:
        console.print(f"stored {document.document_id} {document.digest} ({document.size} bytes)")


@app.command("get")
def get(
    document_id: str,
    out: Annotated[Path | None, typer.Option(help="Write the content here (audited).")] = None,
    tenant: TenantOpt = None,
    as_json: JsonFlag = False,
) -> None:
    """A document's metadata; with --out, its content too (the read is sealed)."""
    with _service(tenant) as (service, tenant_id):
        if out is None:
            document = service.get(tenant_id, document_id)
        else:
            document, content = service.content(tenant_id, document_id, actor=getpass.getuser())
            out.write_bytes(content)
            out.chmod(0o600)
    if as_json:
        emit_json(document.as_dict())
        return
    for key, value in document.as_dict().items():
        console.print(f"  {key}: {value}")


@app.command("list")
def list_(
    owner: Annotated[str | None, typer.Option(help="Only this owner subject's.")] = None,
    tenant: TenantOpt = None,
    as_json: JsonFlag = False,
) -> None:
    """The tenant's documents."""
    with _service(tenant) as (service, tenant_id):
        rows = [d.as_dict() for d in service.find(tenant_id, owner)]
    if as_json:
        emit_json({"documents": rows})
        return
    for row in rows:
        console.print(f"{row['document_id']}  {row['kind']}  {row['digest']}  {row['size']}")
