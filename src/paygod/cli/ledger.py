"""`paygod ledger ...`: append, read, prove, verify, export and import the ledger.

Exit codes: 0 ok/intact/valid, 1 tampered or invalid (with the precise finding),
2 unreadable or malformed input, 3 store unavailable.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import RenderableType
from rich.json import JSON

from paygod.cli.common import JsonFlag, emit, instant
from paygod.cli.output import emit_json, err_console, styled
from paygod.kernel.errors import FieldError, InvalidInput, NotFound

if TYPE_CHECKING:
    from paygod.ledger import Entry, LedgerService, VerifyReport

# Sequence numbers and tree sizes are SQL BIGINTs: a larger one is a usage error (exit 2),
# not an OverflowError from the driver.
MAX_SEQ = 2**63 - 1

app = typer.Typer(
    name="ledger",
    help="The tamper-evident ledger: append, show, prove, verify, export, import.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@contextmanager
def open_ledger() -> Iterator[LedgerService]:
    """Only the ledger, not the whole kernel: the CLI starts fast and needs nothing else."""
    from paygod.bootstrap import clock_from_settings, database_from_settings
    from paygod.kernel.database import migrate
    from paygod.kernel.filemodes import private_home
    from paygod.kernel.settings import load_settings
    from paygod.ledger.wiring import ledger_from_settings

    settings = load_settings()
    private_home(settings.home)
    db = database_from_settings(settings)
    migrate(db)
    ledger = ledger_from_settings(settings, db, clock_from_settings(settings))
    try:
        yield ledger
    finally:
        ledger.close()
        db.close()


def _entry_lines(entry: Entry) -> list[RenderableType]:
    return [
        styled(
            (f"#{entry.seq}", "bold"),
            f" {entry.kind} ",
            (entry.subject, "cyan"),
            f" tenant={entry.tenant_id} recorded={entry.timestamp}",
        ),
        f"  valid {entry.data()['valid_from']} .. {entry.data()['valid_to'] or 'open'}"
        + (f"  supersedes {entry.supersedes}" if entry.supersedes else ""),
        f"  id {entry.entry_id}  hash {entry.record_hash}",
        JSON.from_data(dict(entry.payload)),
    ]


def _entries(entries: list[Entry], as_json: bool, empty: str | None = None) -> None:
    """Entries as a JSON array, or each entry's lines for a person (`empty` when none)."""
    emit(
        [e.as_dict() for e in entries],
        as_json=as_json,
        human=lambda _: [line for e in entries for line in _entry_lines(e)] or empty,
    )


def _progress(label: str) -> tuple[Callable[[int, int], None] | None, Callable[[], None]]:
    """A progress bar on stderr for long exports/verifies, only when a person watches."""
    if not sys.stderr.isatty():
        return None, lambda: None
    from rich.progress import Progress

    bar = Progress(console=err_console, transient=True)
    task = bar.add_task(label, total=None)
    bar.start()

    def update(done: int, total: int) -> None:
        bar.update(task, completed=done, total=total or None)

    return update, bar.stop


@app.command("append")
def append(
    kind: Annotated[str, typer.Option("--kind", help="observation, decision, evidence, ...")],
    subject: Annotated[str, typer.Option("--subject", help="The aggregate id it is about.")],
    payload: Annotated[Path, typer.Option("--payload", help="A JSON object file ('-': stdin).")],
    valid_from: Annotated[str | None, typer.Option("--valid-from", help="ISO instant.")] = None,
    valid_to: Annotated[str | None, typer.Option("--valid-to", help="ISO instant.")] = None,
    supersedes: Annotated[
        str | None, typer.Option("--supersedes", help="entry_id this entry corrects.")
    ] = None,
    tenant: Annotated[str | None, typer.Option("--tenant", help="Tenant id.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Append one entry (durable when the command returns)."""
    from paygod.kernel.credentials import credential_problems
    from paygod.kernel.jsonio import parse_json, read_json_file
    from paygod.ledger import EntryDraft

    body = (
        parse_json(sys.stdin.buffer.read(), source="standard input")
        if str(payload) == "-"
        else read_json_file(payload)
    )
    if not isinstance(body, dict):
        raise InvalidInput(
            f"{payload} must hold a JSON object", errors=[FieldError("", "expected an object")]
        )
    errors = credential_problems(body)
    if errors:
        raise InvalidInput(
            f"{payload}: a value no entry may record; nothing was recorded", errors=errors
        )
    draft = EntryDraft(
        kind=kind,
        subject=subject,
        payload=body,
        tenant_id=tenant or "default",
        valid_from=instant(valid_from, "--valid-from"),
        valid_to=instant(valid_to, "--valid-to"),
        supersedes=supersedes,
    )
    with open_ledger() as ledger:
        entry = ledger.append(draft)
    emit(entry.as_dict(), as_json=as_json, human=_entry_lines(entry))


@app.command("show")
def show(
    seq: Annotated[int, typer.Argument(min=0, max=MAX_SEQ, help="Entry index.")],
    as_json: JsonFlag = False,
) -> None:
    """Show one entry."""
    with open_ledger() as ledger:
        entry = ledger.get(seq)
    if entry is None:
        raise NotFound(f"ledger entry {seq} does not exist")
    emit(entry.as_dict(), as_json=as_json, human=_entry_lines(entry))


@app.command("tail")
def tail(
    n: Annotated[
        int, typer.Option("-n", "--lines", min=1, max=MAX_SEQ, help="How many entries.")
    ] = 10,
    as_json: JsonFlag = False,
) -> None:
    """The newest N entries."""
    with open_ledger() as ledger:
        size = ledger.size
        entries = ledger.entries(after=max(size - n, 0) - 1, limit=n)
    _entries(entries, as_json)


def _report(report: VerifyReport, as_json: bool) -> None:
    emit(report.as_dict(), as_json=as_json, human=_verdict_lines(report))
    if not report.ok:
        raise typer.Exit(1)


def _verdict_lines(report: VerifyReport) -> list[RenderableType]:
    if report.ok:
        signed = f", signed head at {report.tree_head.tree_size}" if report.tree_head else ""
        return [
            styled(
                ("intact", "green"),
                f": {report.entries_checked} entries, root {report.root_hash}{signed}",
            )
        ]
    finding = report.findings[0]
    return [
        styled(("TAMPERED", "red"), f": {finding.message}"),
        f"  index:    {finding.index}",
        f"  field:    {finding.field}",
        f"  expected: {finding.expected}",
        f"  found:    {finding.found}",
    ]


def _read_optional_json(path: Path | None) -> Any:
    if path is None:
        return None
    from paygod.kernel.jsonio import read_json_file

    return read_json_file(path)


@app.command("verify")
def verify(
    file: Annotated[
        Path | None, typer.Option("--file", help="Verify a ledger.jsonl export instead.")
    ] = None,
    tree_head: Annotated[
        Path | None, typer.Option("--tree-head", help="A signed tree head JSON to check against.")
    ] = None,
    public_key: Annotated[
        Path | None, typer.Option("--public-key", help="PEM public key of the tree head.")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Walk the chain and Merkle tree (exit 0 intact, 1 tampered, 2 unreadable)."""
    head = _read_optional_json(tree_head)
    if file is not None:
        from paygod.ledger.fast_verify import verify_jsonl_report

        pem = None
        if public_key is not None:
            try:
                pem = public_key.read_bytes()
            except OSError as exc:
                raise InvalidInput(f"cannot read {public_key}: {exc.strerror}") from None
        elif head is not None:
            with open_ledger() as ledger:
                pem = ledger.public_key_pem()
        report = verify_jsonl_report(file, tree_head=head, public_key_pem=pem)
        _report(report, as_json)
        return
    update, stop = _progress("verifying")
    try:
        with open_ledger() as ledger:
            # A head the auditor kept from earlier (published, mailed, in a receipt) is
            # checked with the stored ones: deleting or re-signing those cannot hide a
            # rewrite under it.
            report = ledger.verify(progress=update, pinned=[head] if head is not None else [])
    finally:
        stop()
    _report(report, as_json)


@app.command("export")
def export(
    fmt: Annotated[str, typer.Option("--format", help="Only jsonl (DESIGN.md §4).")] = "jsonl",
    out: Annotated[Path | None, typer.Option("--out", help="File (default stdout).")] = None,
) -> None:
    """Export every entry as ledger.jsonl (one RFC 8785 line per entry)."""
    if fmt != "jsonl":
        raise InvalidInput(
            f"unknown export format {fmt!r}", errors=[FieldError("--format", "use jsonl")]
        )
    update, stop = _progress("exporting")
    try:
        with open_ledger() as ledger:
            if out is None:
                count = ledger.export_jsonl(sys.stdout.buffer, update)
                sys.stdout.flush()
            else:
                count = _export_to(ledger, out, update)
    finally:
        stop()
    if out is not None:
        err_console.print(f"exported {count} entries to {out}")


def _export_to(ledger: Any, out: Path, update: Callable[[int, int], None] | None) -> int:
    """Write beside `out` and rename, so a failed export never leaves a truncated file
    under the name asked for; a path that cannot be written is named as the user gave it."""
    if out.is_dir():
        raise InvalidInput(f"cannot write {out}: it is a directory")
    if out.exists() and not out.is_file():
        # A device or pipe (/dev/stdout, a FIFO) is written as it is: renaming a file over
        # it would replace the device node itself.
        try:
            with out.open("wb") as handle:
                written: int = ledger.export_jsonl(handle, update)
        except OSError as exc:
            raise InvalidInput(f"cannot write {out}: {exc.strerror or exc}") from exc
        return written
    tmp = out.with_name(out.name + ".partial")
    try:
        with tmp.open("wb") as handle:
            count: int = ledger.export_jsonl(handle, update)
        tmp.replace(out)
    except OSError as exc:
        with suppress(OSError):
            tmp.unlink(missing_ok=True)
        raise InvalidInput(f"cannot write {out}: {exc.strerror or exc}") from exc
    return count


@app.command("import")
def import_(
    file: Annotated[Path, typer.Option("--file", help="A ledger.jsonl export.")],
    as_json: JsonFlag = False,
) -> None:
    """Verify an export, then append what this ledger lacks (nothing on any failure)."""
    with open_ledger() as ledger:
        added = ledger.import_jsonl(file)
        size = ledger.size
    emit(
        {"imported": added, "tree_size": size},
        as_json=as_json,
        human=f"imported {added} entries; ledger size {size}",
    )
    if added:
        # An import appends entries only: the tables that project them (accounts,
        # transfers, indexes) are not written. Say how to get the books, on stderr.
        err_console.print(
            "note: the imported entries are not in the tables yet: run `paygod projections "
            "rebuild`, or move a whole home with `paygod backup` / `paygod restore` "
            "(docs/event-store.md)"
        )


@app.command("head")
def head(
    public_key: Annotated[
        bool, typer.Option("--public-key", help="Print the PEM public key instead.")
    ] = False,
    record: Annotated[
        bool,
        typer.Option(
            "--record",
            help="Store the head too, so reports and OSCAL documents can be judged by it.",
        ),
    ] = False,
    as_json: JsonFlag = False,
) -> None:
    """A signed tree head for the current ledger (Ed25519)."""
    with open_ledger() as ledger:
        if public_key:
            sys.stdout.write(ledger.public_key_pem().decode())
            return
        signed = ledger.flush_tree_head() if record else ledger.tree_head()
    emit(
        signed.as_dict(),
        as_json=as_json,
        human=lambda head: [f"{key:>10}: {value}" for key, value in head.items()],
    )


@app.command("prove")
def prove(
    seq: Annotated[int, typer.Argument(min=0, max=MAX_SEQ, help="Entry index.")],
    size: Annotated[int | None, typer.Option("--size", help="Tree size (default: now).")] = None,
) -> None:
    """An RFC 9162 inclusion proof (JSON)."""
    with open_ledger() as ledger:
        proof = ledger.inclusion_proof(seq, size)
    emit_json(proof.as_dict())


@app.command("consistency")
def consistency(
    old: Annotated[int, typer.Argument(min=0, max=MAX_SEQ, help="The older tree size.")],
    new: Annotated[int, typer.Argument(min=0, max=MAX_SEQ, help="The newer tree size.")],
) -> None:
    """An RFC 9162 consistency proof between two tree sizes (JSON)."""
    with open_ledger() as ledger:
        proof = ledger.consistency_proof(old, new)
    emit_json(proof.as_dict())


@app.command("history")
def history(
    subject: Annotated[str, typer.Argument(help="Subject (aggregate id).")],
    tenant: Annotated[str | None, typer.Option("--tenant", help="Tenant id.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Every version recorded about a subject, with both times."""
    with open_ledger() as ledger:
        entries = ledger.history(subject, tenant)
    _entries(entries, as_json)


@app.command("at")
def at(
    subject: Annotated[str, typer.Argument(help="Subject (aggregate id).")],
    recorded: Annotated[
        str | None, typer.Option("--recorded", help="What was known at this instant.")
    ] = None,
    valid: Annotated[str | None, typer.Option("--valid", help="About this instant.")] = None,
    tenant: Annotated[str | None, typer.Option("--tenant", help="Tenant id.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """The subject as recorded at T (and valid at V): superseded versions left out."""
    with open_ledger() as ledger:
        entries = ledger.as_of(
            subject,
            recorded_at=instant(recorded, "--recorded"),
            valid_at=instant(valid, "--valid"),
            tenant_id=tenant,
        )
    _entries(entries, as_json, empty="nothing recorded")


@app.command("check-proof")
def check_proof(
    file: Annotated[Path, typer.Argument(help="An inclusion/consistency proof or tree head.")],
    public_key: Annotated[
        Path | None, typer.Option("--public-key", help="PEM public key (for tree heads).")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Check a proof with the standalone verifier only (exit 0 valid, 1 invalid, 2 malformed)."""
    from paygod.ledger import verifier

    try:
        doc = verifier.load_document(file.read_bytes())
        pem = public_key.read_bytes() if public_key is not None else None
        result = verifier.check_proof_document(doc, pem)
    except (OSError, ValueError) as exc:  # Malformed is a ValueError
        message = getattr(exc, "strerror", None) or str(exc)
        emit(
            {"kind": None, "valid": False, "reason": f"malformed: {message}"},
            as_json=as_json,
            human=lambda _: err_console.print(f"error: {file}: malformed: {message}"),
        )
        raise typer.Exit(2) from None
    emit(
        result,
        as_json=as_json,
        human=styled(("valid", "green"), f" {result['kind']}")
        if result["valid"]
        else styled(("invalid", "red"), f" {result['kind']}: {result['reason']}"),
    )
    if not result["valid"]:
        raise typer.Exit(1)
