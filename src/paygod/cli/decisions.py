"""Decision commands: `test`, `run`, `validate`, `decide`, `demo`, and the `packs` and
`decisions` groups. Merged into the top-level `paygod` app (paygod/v1 CLI compatible).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from paygod.cli.output import console, emit_json, err_console, styled
from paygod.kernel.errors import CheckFailed, InvalidInput, PaygodError

if TYPE_CHECKING:
    from paygod.decisions.model import Pack

app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)
packs_app = typer.Typer(
    help="Policy packs: list what is loaded, lint a pack.", no_args_is_help=True
)
decisions_app = typer.Typer(help="Sealed decisions: show, replay.", no_args_is_help=True)
app.add_typer(packs_app, name="packs")
app.add_typer(decisions_app, name="decisions")

JsonFlag = Annotated[bool, typer.Option("--json", help="Machine-readable JSON on stdout.")]


@app.command("test")
def test_pack(
    pack: Annotated[Path, typer.Option("--pack", help="The pack directory.")],
    as_json: JsonFlag = False,
) -> None:
    """Run a pack's tests/cases.yaml (exit 0 all pass, 1 a case failed, 2 error)."""
    from paygod.decisions.testing import run_pack_tests

    try:
        report = run_pack_tests(pack)
    except PaygodError as exc:
        if as_json:
            emit_json({"status": "error", "message": exc.one_line().removeprefix("error: ")})
            raise typer.Exit(2) from None
        raise
    if as_json:
        emit_json(report.as_dict())
    else:
        console.print(f"Testing pack {report.pack.name} v{report.pack.version}")
        for result in report.results:
            if result.status == "pass":
                console.print(styled("  ", ("PASS", "green"), f" {result.name} ({result.actual})"))
            else:
                console.print(
                    styled("  ", ("FAIL", "red"), f" {result.name}: {'; '.join(result.failures)}")
                )
        console.print(f"{report.passed} passed, {report.failed} failed")
    if report.failed:
        raise typer.Exit(1)


@app.command("run")
def run_pack(
    pack: Annotated[Path, typer.Option("--pack", help="The pack directory.")],
    input_file: Annotated[Path, typer.Option("--input", help="The input JSON file.")],
    out: Annotated[Path, typer.Option("--out", help="Output directory for the bundle.")],
    as_json: JsonFlag = False,
) -> None:
    """Evaluate one input and write plan, findings, ledger.jsonl, manifest and receipt."""
    from paygod.decisions.bundle import run_pack as run_bundle
    from paygod.kernel.bootstrap import clock_from_settings
    from paygod.kernel.settings import load_settings

    result = run_bundle(pack, input_file, out, clock_from_settings(load_settings()))
    if as_json:
        emit_json(result.receipt)
    else:
        console.print(
            f"OK: {result.result.verdict.value} by rule {result.result.rule or '-'}: "
            f"{result.result.reason} (bundle in {out})"
        )


def _classify(path: Path) -> str:
    if path.is_dir():
        return "pack"
    if path.suffix == ".jsonl":
        return "ledger"
    if path.suffix in (".yaml", ".yml"):
        if path.name == "cases.yaml" or path.parent.name == "tests":
            return "cases"
        return "pack-file"
    return "input"


def _pack_named(pack: str) -> Pack:
    """`--pack` as `test` and `run` take it (a pack directory), or a loaded pack's name."""
    from paygod.decisions.packs import PackRepository, load_pack
    from paygod.kernel.settings import load_settings

    if Path(pack).is_dir():
        return load_pack(Path(pack))
    found = PackRepository(load_settings().packs).get(pack)
    if found is None:
        raise InvalidInput(f"no pack named {pack!r} and no pack directory {pack}")
    return found


def _validate_one(path: Path, pack_name: str | None) -> dict[str, Any]:
    from paygod.decisions.bundle import verify_interchange
    from paygod.decisions.packs import (
        CASES_FILE,
        compile_pack,
        load_cases,
        load_pack,
        validate_input,
    )
    from paygod.kernel.jsonio import read_json_file

    kind = _classify(path)
    errors: list[dict[str, str]] = []
    detail = ""
    try:
        if not path.exists():
            raise InvalidInput(f"{path} does not exist")
        if kind == "pack":
            pack = load_pack(path)
            detail = f"{pack.name} {pack.version}, {len(pack.rules)} rules"
            if (path / CASES_FILE).is_file():
                detail += f", {len(load_cases(path))} test cases"
        elif kind == "pack-file":
            pack = compile_pack(path.read_bytes(), path)
            detail = f"{pack.name} {pack.version}"
        elif kind == "cases":
            detail = f"{len(load_cases(path.parent.parent))} test cases"
        elif kind == "ledger":
            problems = verify_interchange(path)
            if problems:
                raise CheckFailed(f"{path}: {problems[0]}")
            detail = "hash chain intact"
        else:
            document = read_json_file(path)
            if pack_name:
                found = _pack_named(pack_name)
                problems_in = validate_input(found, document)
                if problems_in:
                    raise InvalidInput(f"{path} does not match {pack_name}", errors=problems_in)
                detail = f"matches the inputs of {pack_name}"
            else:
                detail = "strict JSON"
    except PaygodError as exc:
        errors = [e.as_dict() for e in exc.errors] or [{"pointer": "", "message": exc.detail}]
        return {
            "path": str(path),
            "kind": kind,
            "status": "invalid",
            "message": exc.detail,
            "errors": errors,
            "exit_code": exc.exit_code,
        }
    return {"path": str(path), "kind": kind, "status": "valid", "message": detail, "errors": []}


@app.command("validate")
def validate(
    paths: Annotated[
        list[Path] | None, typer.Argument(help="Packs, pack files, inputs, ledgers.")
    ] = None,
    pack: Annotated[
        str | None,
        typer.Option(
            "--pack",
            help="A pack directory or a loaded pack's name: validated itself, and JSON "
            "inputs are validated against it.",
        ),
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Validate packs, pack tests, inputs and ledger files; print one report."""
    targets = list(paths or [])
    if pack is not None and Path(pack).is_dir() and Path(pack) not in targets:
        targets.insert(0, Path(pack))
    if not targets:
        raise InvalidInput("nothing to validate: give paths or --pack DIR")
    report = [_validate_one(path, pack) for path in targets]
    invalid = [r for r in report if r["status"] != "valid"]
    for r in invalid:
        err_console.print(f"error: {r['message']}", markup=False, highlight=False)
    if as_json:
        emit_json({"valid": not invalid, "results": report})
    else:
        for r in report:
            mark = ("valid", "green") if r["status"] == "valid" else ("invalid", "red")
            console.print(styled(mark, f"  {r['kind']:<9} {r['path']}: {r['message']}"))
            for e in r["errors"]:
                console.print(f"           {e['pointer'] or '/'}: {e['message']}")
    if invalid:
        raise typer.Exit(max(int(r.get("exit_code", 2)) for r in invalid))


@packs_app.command("list")
def packs_list(as_json: JsonFlag = False) -> None:
    """The packs loaded from PAYGOD_PACKS (bundled defaults when it does not exist)."""
    from paygod.decisions.packs import PackRepository
    from paygod.kernel.settings import load_settings

    repo = PackRepository(load_settings().packs)
    packs = [p.summary() for p in repo.packs()]
    problems = [{"path": k, "message": v.one_line()} for k, v in sorted(repo.problems.items())]
    if as_json:
        emit_json(
            {
                "directory": str(repo.directory),
                "bundled": repo.bundled,
                "packs": packs,
                "refused": problems,
            }
        )
        return
    source = "bundled defaults" if repo.bundled else str(repo.directory)
    console.print(f"Packs from {source}:")
    for p in packs:
        console.print(f"  {p['name']} {p['version']}  {len(p['rules'])} rules  {p['digest'][:12]}")
    for problem in problems:
        console.print(styled("  ", ("refused", "red"), f" {problem['path']}: {problem['message']}"))


@packs_app.command("lint")
def packs_lint(
    directory: Annotated[Path, typer.Argument(help="The pack directory.")],
    as_json: JsonFlag = False,
) -> None:
    """Rules that can never fire, unknown paths, duplicate names (exit 1 when found)."""
    from paygod.decisions.lint import lint_pack
    from paygod.decisions.packs import load_pack

    pack = load_pack(directory)
    findings = lint_pack(pack)
    if as_json:
        emit_json({"pack": pack.name, "findings": [f.as_dict() for f in findings]})
    else:
        for f in findings:
            console.print(f"{f.pointer}: {f.rule}: {f.message}")
        console.print(f"{pack.name}: {len(findings)} finding(s)")
    if findings:
        raise typer.Exit(1)


def _print_decision(decision: dict[str, Any]) -> None:
    console.print(
        f"{decision['decision'].upper()} by {decision.get('pack')}/{decision.get('rule') or '-'}: "
        f"{decision['reason']}"
    )


@app.command("decide")
def decide(
    input_file: Annotated[Path, typer.Option("--input", help="Request JSON file.")],
    pack: Annotated[
        list[str] | None, typer.Option("--pack", help="Pack name (repeatable).")
    ] = None,
    subject: Annotated[str, typer.Option(help="Subject the decision is about.")] = "cli",
    as_json: JsonFlag = False,
) -> None:
    """Decide and seal one request against the local kernel (PAYGOD_HOME)."""
    from paygod.kernel.bootstrap import build_kernel
    from paygod.kernel.jsonio import read_json_file

    document = read_json_file(input_file)
    if isinstance(document, dict) and "input" in document:
        body = document
    else:
        body = {"subject": subject, "context": {}, "input": document}
    kernel = build_kernel()
    try:
        service = kernel.decisions
        sealed = service.decide(
            subject=body.get("subject", subject),
            context=body.get("context") or {},
            input=body["input"],
            packs=pack or body.get("packs"),
        )
    finally:
        kernel.close()
    if as_json:
        emit_json(sealed)
    else:
        _print_decision(sealed)
        console.print(f"sealed at ledger seq {sealed['ledger']['seq']} ({sealed['decision_id']})")


@decisions_app.command("replay")
def replay(
    seq: Annotated[int, typer.Argument(help="Ledger sequence number of a sealed decision.")],
    as_json: JsonFlag = False,
) -> None:
    """Re-evaluate a sealed decision with its recorded pack and input; exit 1 if it differs."""
    from paygod.kernel.bootstrap import build_kernel

    kernel = build_kernel()
    try:
        report = kernel.decisions.replay(seq)
    finally:
        kernel.close()
    if as_json:
        emit_json(report)
    else:
        status = "identical" if report["identical"] else "DIFFERENT"
        console.print(
            f"seq {seq}: recorded {report['recorded']['decision']}, "
            f"today {report['today']['decision']}: {status}"
        )
        for note in report.get("notes", []):
            console.print(f"  {note}")
    if not report["identical"]:
        raise typer.Exit(1)


@decisions_app.command("show")
def show(
    decision_id: Annotated[str, typer.Argument(help="Decision id.")],
) -> None:
    """Print a sealed decision with its evidence and explanation."""
    from paygod.kernel.bootstrap import build_kernel

    kernel = build_kernel()
    try:
        decision = kernel.decisions.get(decision_id)
    finally:
        kernel.close()
    emit_json(decision)


@app.command("demo")
def demo() -> None:
    """A guided tour in a temporary home: allowed, denied, flagged and refused requests."""
    from rich.console import Console

    from paygod.decisions.demo import run_demo
    from paygod.payments.demo import run_payments_demo

    # The tour's own fixed text carries rich markup; the shared console reads none.
    tour = Console()
    ok = run_demo(tour)
    ok = run_payments_demo(tour) and ok
    if not ok:
        raise typer.Exit(1)
