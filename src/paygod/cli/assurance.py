"""`paygod compliance oscal component-definition|assessment-results|poam` and
`paygod reports sox|pci|gdpr`: documents and reports for a period, from the local ledger."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import Annotated

import typer

from paygod.cli.common import JsonFlag, TenantOption, emit, tenant_kernel

compliance_app = typer.Typer(
    name="compliance", help="Compliance as code: OSCAL documents.", no_args_is_help=True
)
oscal_app = typer.Typer(name="oscal", help="OSCAL documents for a period.", no_args_is_help=True)
reports_app = typer.Typer(
    name="reports", help="SOX, PCI DSS and GDPR reports from the ledger.", no_args_is_help=True
)
compliance_app.add_typer(oscal_app)

From = Annotated[str, typer.Option("--from", help="Start of the period (ISO 8601).")]
To = Annotated[str, typer.Option("--to", help="End of the period (ISO 8601), inclusive.")]
Out = Annotated[Path, typer.Option("--out", help="File to write.")]
TreeSize = Annotated[
    int | None,
    typer.Option("--tree-size", help="Judge against the stored signed head of this size."),
]


def _write(out: Path, parts: Iterable[bytes]) -> int:
    """Write the parts as they come (a document may be gigabytes), whole or not at all: a
    half-written report must not pass for one. Returns the bytes written."""
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    size = 0
    try:
        with tmp.open("wb") as handle:
            for part in parts:
                handle.write(part)
                size += len(part)
        tmp.replace(out)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return size


def _done(out: Path, parts: Iterable[bytes], what: str, as_json: bool) -> None:
    size = _write(out, parts)
    emit(
        {"written": str(out), "bytes": size, "document": what},
        as_json=as_json,
        human=f"wrote {what} to {out} ({size} bytes)",
    )


def _oscal(kind: str, start: str, end: str, out: Path, tree_size: int | None,
           tenant: str | None, as_json: bool, workers: int = 1) -> None:  # fmt: skip
    from paygod.assurance.model import Period

    period = Period.parse(start, end)
    with tenant_kernel(tenant) as (kernel, scope):
        parts = kernel.assurance.document_parts(kind, scope, period, tree_size, workers)
        _done(out, parts, kind, as_json)


@oscal_app.command("component-definition")
def component_definition(
    start: From, end: To, out: Out, tree_size: TreeSize = None,
    tenant: TenantOption = None, as_json: JsonFlag = False,
) -> None:  # fmt: skip
    """Paygod and its loaded packs as implemented requirements, per control."""
    _oscal("component-definition", start, end, out, tree_size, tenant, as_json)


Workers = Annotated[
    int,
    typer.Option(
        "--workers",
        min=0,
        max=64,
        help="Processes that observe slices of the period (0: one per CPU core). A ledger "
        "of fewer than 100,000 entries is observed in this process.",
    ),
]


@oscal_app.command("assessment-results")
def assessment_results(start: From, end: To, out: Out, tree_size: TreeSize = None,
                       tenant: TenantOption = None, as_json: JsonFlag = False,
                       workers: Workers = 0) -> None:  # fmt: skip
    """Observations (sealed decisions with inclusion proofs) and findings per control."""
    count = workers or os.cpu_count() or 1
    _oscal("assessment-results", start, end, out, tree_size, tenant, as_json, count)


@oscal_app.command("poam")
def poam(start: From, end: To, out: Out, tree_size: TreeSize = None,
         tenant: TenantOption = None, as_json: JsonFlag = False) -> None:  # fmt: skip
    """A plan of action and milestones from the cases open at the period's end."""
    _oscal("poam", start, end, out, tree_size, tenant, as_json)


def _report(kind: str, start: str, end: str, fmt: str, out: Path, tree_size: int | None,
            tenant: str | None, as_json: bool) -> None:  # fmt: skip
    from paygod.assurance.model import Period
    from paygod.assurance.render import FORMATS, render
    from paygod.kernel.errors import FieldError, InvalidInput

    if fmt not in FORMATS:
        raise InvalidInput(
            f"--format must be one of {', '.join(FORMATS)}",
            errors=[FieldError("/format", f"one of {', '.join(FORMATS)}")],
        )
    period = Period.parse(start, end)
    with tenant_kernel(tenant) as (kernel, scope):
        built = kernel.assurance.report(kind, scope, period, tree_size)
    _done(out, [render(built, fmt)], f"{kind} report", as_json)


Format = Annotated[str, typer.Option("--format", help="json, html or pdf.")]


@reports_app.command("sox")
def sox(start: From, end: To, out: Out, fmt: Format = "json", tree_size: TreeSize = None,
        tenant: TenantOption = None, as_json: JsonFlag = False) -> None:  # fmt: skip
    """Segregation of duties: maker-checker, pack activations, privileged access, changes."""
    _report("sox", start, end, fmt, out, tree_size, tenant, as_json)


@reports_app.command("pci")
def pci(start: From, end: To, out: Out, fmt: Format = "json", tree_size: TreeSize = None,
        tenant: TenantOption = None, as_json: JsonFlag = False) -> None:  # fmt: skip
    """No card data in the ledger (Luhn scan), cardholder-reference reads, key rotations."""
    _report("pci", start, end, fmt, out, tree_size, tenant, as_json)


@reports_app.command("gdpr")
def gdpr(start: From, end: To, out: Out, fmt: Format = "json", tree_size: TreeSize = None,
         tenant: TenantOption = None, as_json: JsonFlag = False) -> None:  # fmt: skip
    """Records of processing, consents given and withdrawn, access and erasure requests."""
    _report("gdpr", start, end, fmt, out, tree_size, tenant, as_json)
