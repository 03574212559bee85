"""Decision commands: `test`, `run`, `validate`, `decide`, `demo`, and the `packs` and
`decisions` groups. Merged into the top-level `paygod` app (paygod/v1 CLI compatible).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer
from rich.console import RenderableType

from paygod.cli.common import JsonFlag, emit, open_kernel
from paygod.cli.output import emit_json, err_console, styled
from paygod.kernel.errors import CheckFailed, InvalidInput, PaygodError

if TYPE_CHECKING:
    from paygod.decisions.lint import LintFinding
    from paygod.decisions.model import Pack
    from paygod.decisions.semantic_lint import VerdictChange
    from paygod.governance.service import GovernanceService

app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)
packs_app = typer.Typer(
    help="Policy packs: list what is loaded, lint and diff packs.", no_args_is_help=True
)
decisions_app = typer.Typer(help="Sealed decisions: show, replay.", no_args_is_help=True)
app.add_typer(packs_app, name="packs")
app.add_typer(decisions_app, name="decisions")


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
        _pack_error(exc, as_json)
    emit(
        report.as_dict(),
        as_json=as_json,
        human=[
            f"Testing pack {report.pack.name} v{report.pack.version}",
            *(
                styled("  ", ("PASS", "green"), f" {r.name} ({r.actual})")
                if r.status == "pass"
                else styled("  ", ("FAIL", "red"), f" {r.name}: {'; '.join(r.failures)}")
                for r in report.results
            ),
            f"{report.passed} passed, {report.failed} failed",
        ],
    )
    if report.failed:
        raise typer.Exit(1)


def _pack_error(error: PaygodError, as_json: bool) -> NoReturn:
    """With --json the error is the document on stdout, exit 2; a person gets what every
    error gives (its one stderr line and its exit code)."""

    def raise_it(_: object) -> None:
        raise error

    message = error.one_line().removeprefix("error: ")
    emit({"status": "error", "message": message}, as_json=as_json, human=raise_it)
    raise typer.Exit(2) from None


@app.command("run")
def run_pack(
    pack: Annotated[Path, typer.Option("--pack", help="The pack directory.")],
    input_file: Annotated[Path, typer.Option("--input", help="The input JSON file.")],
    out: Annotated[Path, typer.Option("--out", help="Output directory for the bundle.")],
    as_json: JsonFlag = False,
) -> None:
    """Evaluate one input and write plan, findings, ledger.jsonl, manifest and receipt."""
    from paygod.bootstrap import clock_from_settings
    from paygod.decisions.bundle import run_pack as run_bundle
    from paygod.kernel.settings import load_settings

    result = run_bundle(pack, input_file, out, clock_from_settings(load_settings()))
    emit(
        result.receipt,
        as_json=as_json,
        human=f"OK: {result.result.verdict.value} by rule {result.result.rule or '-'}: "
        f"{result.result.reason} (bundle in {out})",
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
    emit(
        {"valid": not invalid, "results": report},
        as_json=as_json,
        human=_validation_lines(report),
    )
    if invalid:
        raise typer.Exit(max(int(r.get("exit_code", 2)) for r in invalid))


def _validation_lines(report: list[dict[str, Any]]) -> list[RenderableType]:
    lines: list[RenderableType] = []
    for r in report:
        mark = ("valid", "green") if r["status"] == "valid" else ("invalid", "red")
        lines.append(styled(mark, f"  {r['kind']:<9} {r['path']}: {r['message']}"))
        lines += [f"           {e['pointer'] or '/'}: {e['message']}" for e in r["errors"]]
    return lines


@packs_app.command("list")
def packs_list(as_json: JsonFlag = False) -> None:
    """The packs loaded from PAYGOD_PACKS (bundled defaults when it does not exist)."""
    from paygod.decisions.packs import PackRepository
    from paygod.kernel.settings import load_settings

    repo = PackRepository(load_settings().packs)
    packs = [p.summary() for p in repo.packs()]
    problems = [{"path": k, "message": v.one_line()} for k, v in sorted(repo.problems.items())]
    emit(
        {
            "directory": str(repo.directory),
            "bundled": repo.bundled,
            "packs": packs,
            "refused": problems,
        },
        as_json=as_json,
        human=[
            f"Packs from {'bundled defaults' if repo.bundled else repo.directory}:",
            *(
                f"  {p['name']} {p['version']}  {len(p['rules'])} rules  {p['digest'][:12]}"
                for p in packs
            ),
            *(styled("  ", ("refused", "red"), f" {p['path']}: {p['message']}") for p in problems),
        ],
    )


@packs_app.command("lint")
def packs_lint(
    directories: Annotated[
        list[Path], typer.Argument(help="Pack directories (several: also checked together).")
    ],
    as_json: JsonFlag = False,
) -> None:
    """Rules that can never fire or never take effect, conditions that are always true or
    false (each with a witness input), unknown paths (exit 1 when found)."""
    from paygod.decisions.lint import lint_packs
    from paygod.decisions.packs import load_pack

    packs = [load_pack(directory) for directory in directories]
    found = lint_packs(packs)
    reports = [
        {"pack": name, "findings": [f.as_dict() for f in findings]}
        for name, findings in found.items()
    ]
    emit(
        reports[0] if len(reports) == 1 else {"packs": reports},
        as_json=as_json,
        human=_lint_lines(found),
    )
    if any(found.values()):
        raise typer.Exit(1)


def _lint_lines(found: dict[str, list[LintFinding]]) -> list[RenderableType]:
    lines: list[RenderableType] = []
    for name, findings in found.items():
        for f in findings:
            lines.append(f"{f.pointer}: {f.rule}: {f.message}")
            if f.witness is not None:
                lines.append(f"  witness: {canonical_text(f.witness)}")
        lines.append(f"{name}: {len(findings)} finding(s)")
    return lines


@packs_app.command("diff")
def packs_diff(
    before: Annotated[Path, typer.Argument(help="The pack directory as it was.")],
    after: Annotated[Path, typer.Argument(help="The pack directory as it is to be.")],
    as_json: JsonFlag = False,
) -> None:
    """How two versions of a pack decide differently: each verdict change with an input
    that shows it (exit 0 alike everywhere, 1 when some input changes verdict)."""
    from paygod.decisions.packs import load_pack
    from paygod.decisions.semantic_lint import diff_verdicts

    old, new = load_pack(before), load_pack(after)
    changes = diff_verdicts(old, new)
    emit(
        {
            "before": {"pack": old.name, "version": old.version, "digest": old.digest},
            "after": {"pack": new.name, "version": new.version, "digest": new.digest},
            "changes": [c.as_dict() for c in changes],
        },
        as_json=as_json,
        human=[
            *_diff_lines(changes),
            f"{old.name} {old.version} -> {new.version}: {len(changes)} verdict change(s)",
        ],
    )
    if changes:
        raise typer.Exit(1)


def _diff_lines(changes: list[VerdictChange]) -> list[RenderableType]:
    lines: list[RenderableType] = []
    for c in changes:
        lines.append(f"{c.before.value} -> {c.after.value}")
        if c.witness is not None:
            by = f"{c.rules[0] or '-'} -> {c.rules[1] or '-'}"
            lines.append(f"  by {by} on {canonical_text(c.witness)}")
    return lines


@packs_app.command("keygen")
def packs_keygen(
    out: Annotated[Path, typer.Option("--out", help="Where to write the private key (PEM).")],
) -> None:
    """A new Ed25519 signing key (0600); its public half is printed, to give to kernels."""
    import os

    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import (
        Encoding,
        NoEncryption,
        PrivateFormat,
        PublicFormat,
    )

    if out.exists():
        raise InvalidInput(f"{out} exists: refusing to overwrite a key")
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
    try:
        fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(pem)
    except OSError as exc:
        raise InvalidInput(f"cannot write {out}: {exc.strerror}") from None
    public = key.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
    typer.echo(public.decode("ascii"), nl=False)


@packs_app.command("bundle")
def packs_bundle(
    directory: Annotated[Path, typer.Argument(help="Directory of packs to bundle.")],
    sign: Annotated[Path, typer.Option("--sign", help="Ed25519 private key (PEM).")],
    name: Annotated[
        str | None, typer.Option(help="Bundle name (default: the directory's).")
    ] = None,
    version: Annotated[str, typer.Option(help="Bundle version.")] = "1.0.0",
    tenant: Annotated[
        str | None,
        typer.Option(help="The tenant the bundle is for (signed by that tenant's key)."),
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Write bundle.json (every file's digest) and bundle.sig.json (Ed25519 over its RFC
    8785 form) into DIRECTORY."""
    from paygod.decisions.bundles import sign_bundle
    from paygod.kernel.clock import SystemClock

    if not directory.is_dir():
        raise InvalidInput(f"{directory} is not a directory")
    created = SystemClock().now().isoformat().replace("+00:00", "Z")
    manifest = sign_bundle(
        directory,
        sign,
        name=name or directory.resolve().name,
        version=version,
        created_at=created,
        tenant=tenant,
    )
    emit(
        manifest,
        as_json=as_json,
        human=f"{manifest['name']} {manifest['version']}: {len(manifest['packs'])} pack(s), "
        f"{len(manifest['files'])} file(s) signed",
    )


@packs_app.command("verify")
def packs_verify(
    directory: Annotated[Path, typer.Argument(help="A signed bundle.")],
    trust: Annotated[Path, typer.Option("--trust", help="Trusted public key(s): a PEM or a dir.")],
    as_json: JsonFlag = False,
) -> None:
    """Check a bundle's signature and files as the kernel would (exit 0 ok, 1 refused)."""
    from paygod.decisions.bundles import BundleRefused, Keyring, verify_bundle

    keyring = Keyring.load(trust)
    try:
        manifest = verify_bundle(directory, keyring)
    except BundleRefused as exc:
        emit(
            {"status": "refused", "reason": exc.detail},
            as_json=as_json,
            human=styled(("refused", "red"), f" {exc.detail}"),
        )
        raise typer.Exit(1) from None
    emit(
        {"status": "ok", "name": manifest["name"], "version": manifest["version"]},
        as_json=as_json,
        human=f"ok: {manifest['name']} {manifest['version']}, {len(manifest['packs'])} pack(s)",
    )


def _govern(as_json: bool, act: Callable[[GovernanceService], dict[str, Any]]) -> None:
    """One governance step on the local kernel, shown as the pack's promotion row."""
    with open_kernel() as kernel:
        row = act(kernel.governance)
    emit(row, as_json=as_json, human=_promotion_line)


_ACTOR = "cli:local-operator"


@packs_app.command("propose")
def packs_propose(
    directory: Annotated[Path, typer.Argument(help="The new version of an active pack.")],
    as_json: JsonFlag = False,
) -> None:
    """Register a challenger version (draft) of an active pack; sealed."""
    _govern(as_json, lambda governance: governance.propose(directory, actor=_ACTOR))


@packs_app.command("promote")
def packs_promote(
    name: Annotated[str, typer.Argument(help="The pack's name.")],
    to: Annotated[str, typer.Option("--to", help="shadow | canary | active | retired")],
    percent: Annotated[
        float | None, typer.Option(help="Canary share of subjects, 0-100 (canary only).")
    ] = None,
    gate: Annotated[str, typer.Option(help="Gate test before canary: bayes | z.")] = "bayes",
    minimum_sample: Annotated[int, typer.Option(help="Reviewed outcomes needed.")] = 200,
    as_json: JsonFlag = False,
) -> None:
    """Move the challenger one stage on (canary needs the gate to pass on reviewed outcomes)."""
    from paygod.governance.model import Stage

    try:
        stage = Stage(to)
    except ValueError:
        raise InvalidInput(f"--to must be one of {', '.join(s.value for s in Stage)}") from None
    if stage is Stage.CANARY and percent is not None and not 0 < percent <= 100:
        raise InvalidInput("--percent must be within 0-100 (exclusive of 0)")
    _govern(
        as_json,
        lambda governance: governance.promote(
            name, stage, actor=_ACTOR, percent=percent, gate=gate, minimum_sample=minimum_sample
        ),
    )


@packs_app.command("canary")
def packs_canary(
    name: Annotated[str, typer.Argument(help="The pack's name.")],
    percent: Annotated[float, typer.Option(help="The canary's share of subjects, 0-100.")],
    as_json: JsonFlag = False,
) -> None:
    """Step a canary's share of subjects (sealed); stepping up only adds subjects."""
    if not 0 < percent <= 100:
        raise InvalidInput("--percent must be within 0-100 (exclusive of 0)")
    _govern(as_json, lambda governance: governance.set_canary_percent(name, percent, actor=_ACTOR))


@packs_app.command("rollback")
def packs_rollback(
    name: Annotated[str, typer.Argument(help="The pack's name.")],
    reason: Annotated[str, typer.Option(help="Why (sealed with the rollback).")],
    as_json: JsonFlag = False,
) -> None:
    """Back to the champion in one step: the challenger is retired."""
    _govern(as_json, lambda governance: governance.rollback(name, actor=_ACTOR, reason=reason))


@packs_app.command("outcome")
def packs_outcome(
    name: Annotated[str, typer.Argument(help="The pack's name.")],
    decision: Annotated[str, typer.Option("--decision", help="A shadowed decision's id.")],
    correct: Annotated[str, typer.Option(help="The verdict that was right: allow|flag|deny.")],
    as_json: JsonFlag = False,
) -> None:
    """A reviewed outcome for the promotion gate: both sides' verdicts are read from the
    sealed decision, never taken from the command line."""

    with open_kernel() as kernel:
        sealed = kernel.decisions.get(decision)
        champion = next((p for p in sealed.get("packs", []) if p["name"] == name), None)
        shadow = next((p for p in sealed.get("shadow", []) if p["pack"] == name), None)
        if champion is None or shadow is None:
            raise InvalidInput(f"decision {decision} was not shadowed for pack {name!r}")
        result = kernel.governance.record_outcome(
            name,
            decision_id=decision,
            champion=champion["decision"],
            challenger=shadow["decision"],
            correct=correct,
            actor=_ACTOR,
        )
    emit(result, as_json=as_json, human=_promotion_line)


@packs_app.command("status")
def packs_status(
    name: Annotated[str | None, typer.Argument(help="One pack (default: all).")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Champion and challenger of each pack, with the shadow and canary statistics."""
    with open_kernel() as kernel:
        rows = kernel.governance.status(name)
    emit({"packs": rows}, as_json=as_json, human=[_promotion_line(row) for row in rows])


def _promotion_line(row: dict[str, Any]) -> str:
    champion = row.get("champion") or {}
    challenger = row.get("challenger")
    line = f"{row['pack']}: champion {champion.get('version', '-')}"
    if challenger:
        shadow = challenger["shadow"]
        line += (
            f"; challenger {challenger['version']} in {challenger['stage']}"
            f" (canary {challenger['canary_percent']}%, agreement {shadow['agreement_rate']})"
        )
    return line


def canonical_text(document: Any) -> str:
    import json

    return json.dumps(document, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


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
    from paygod.kernel.jsonio import read_json_file

    document = read_json_file(input_file)
    if isinstance(document, dict) and "input" in document:
        body = document
    else:
        body = {"subject": subject, "context": {}, "input": document}
    with open_kernel() as kernel:
        sealed = kernel.decisions.decide(
            subject=body.get("subject", subject),
            context=body.get("context") or {},
            input=body["input"],
            packs=pack or body.get("packs"),
        )
    emit(
        sealed,
        as_json=as_json,
        human=lambda d: [
            f"{d['decision'].upper()} by {d.get('pack')}/{d.get('rule') or '-'}: {d['reason']}",
            f"sealed at ledger seq {d['ledger']['seq']} ({d['decision_id']})",
        ],
    )


@decisions_app.command("replay")
def replay(
    seq: Annotated[int, typer.Argument(help="Ledger sequence number of a sealed decision.")],
    as_json: JsonFlag = False,
) -> None:
    """Re-evaluate a sealed decision with its recorded pack and input; exit 1 if it differs."""

    with open_kernel() as kernel:
        report = kernel.decisions.replay(seq)
    emit(
        report,
        as_json=as_json,
        human=lambda r: [
            f"seq {seq}: recorded {r['recorded']['decision']}, today {r['today']['decision']}: "
            + ("identical" if r["identical"] else "DIFFERENT"),
            *(f"  {note}" for note in r.get("notes", [])),
        ],
    )
    if not report["identical"]:
        raise typer.Exit(1)


@decisions_app.command("show")
def show(
    decision_id: Annotated[str, typer.Argument(help="Decision id.")],
) -> None:
    """Print a sealed decision with its evidence and explanation."""

    with open_kernel() as kernel:
        decision = kernel.decisions.get(decision_id)
    emit_json(decision)


@app.command("demo")
def demo() -> None:
    """A guided tour in a temporary home: allowed, denied, flagged and refused requests."""
    from rich.console import Console

    from paygod.cli.aml_demo import run_risk_demo
    from paygod.cli.decisions_demo import run_demo
    from paygod.cli.payments_demo import run_payments_demo

    # The tour's own fixed text carries rich markup; the shared console reads none.
    tour = Console()
    ok = run_demo(tour)
    ok = run_payments_demo(tour) and ok
    ok = run_risk_demo(tour) and ok
    if not ok:
        raise typer.Exit(1)
