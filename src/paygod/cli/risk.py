"""`paygod risk train|models|model|verify|rebuild` and `paygod cases ...` on the local kernel."""

from __future__ import annotations

import getpass
from typing import Annotated, Any

import typer

from paygod.cli.common import JsonFlag, open_kernel
from paygod.cli.output import console, emit_json

app = typer.Typer(name="risk", help="Risk: models, training, windows.", no_args_is_help=True)
cases_app = typer.Typer(
    name="cases", help="Cases: alerts a compliance officer works.", no_args_is_help=True
)

AsOption = Annotated[
    str | None, typer.Option("--as", help="Acting principal (default: the OS user).")
]


def _metrics_line(meta: dict[str, Any]) -> str:
    m = (meta.get("metrics") or {}).get("fraud") or {}
    return f"AUC {m.get('roc_auc')}  AP {m.get('average_precision')}  CP@100 {m.get('cp_at_100')}"


@app.command("train")
def train(
    transactions: Annotated[
        int, typer.Option(min=5_000, max=5_000_000, help="About this many transactions.")
    ] = 100_000,
    seed: Annotated[int, typer.Option(min=0, max=2**32 - 1)] = 1,
    patterns: Annotated[
        str, typer.Option(help="all: handbook scenarios + payment patterns; handbook: only its 3.")
    ] = "all",
    as_: AsOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Generate the synthetic set, train both models, seal a new registry version."""
    from paygod.kernel.errors import FieldError, InvalidInput
    from paygod.risk.dataset import DatasetSpec
    from paygod.risk.training import train as run_training

    if patterns not in ("all", "handbook"):
        raise InvalidInput(
            "invalid --patterns", errors=[FieldError("/patterns", "must be all or handbook")]
        )
    spec = DatasetSpec.for_transactions(transactions, seed=seed, patterns=patterns)
    artefact, meta = run_training(spec)
    kernel = open_kernel()
    try:
        registered = kernel.risk.register(artefact, meta, actor=as_ or getpass.getuser())
    finally:
        kernel.close()
    if as_json:
        emit_json(registered)
        return
    console.print(
        f"risk model {registered['version']} sealed at #{registered['seq']}: "
        f"{meta['training_data']['transactions']} transactions in {meta['training_seconds']} s; "
        + _metrics_line(meta)
    )


@app.command("models")
def models(as_json: JsonFlag = False) -> None:
    """The registry, newest first."""
    kernel = open_kernel()
    try:
        found = kernel.risk.models()
    finally:
        kernel.close()
    if as_json:
        emit_json({"models": found})
        return
    for m in found:
        mark = "*" if m["active"] else " "
        console.print(f"{mark} v{m['version']} {m['artefact_digest'][:19]}… " + _metrics_line(m))


@app.command("model")
def model(version: int, as_json: JsonFlag = False) -> None:
    """One model: digests, training data, split, metrics, features."""
    kernel = open_kernel()
    try:
        found = kernel.risk.model(version)
    finally:
        kernel.close()
    emit_json(found) if as_json else console.print_json(data=found)


@app.command("verify")
def verify(version: int) -> None:
    """Load a model as scoring would: its artefact against the digest sealed in the ledger."""
    from paygod.kernel.errors import NotFound

    kernel = open_kernel()
    try:
        stored = kernel.risk.store.get(version)
        if stored is None:
            raise NotFound(f"no risk model version {version}")
        kernel.risk.load(stored)
    finally:
        kernel.close()
    console.print(f"risk model {version}: artefact matches its sealed digest, loads and compiles")


@app.command("rebuild")
def rebuild(as_json: JsonFlag = False) -> None:
    """Rebuild the risk windows from the ledger's sealed assessments (what start-up does)."""
    kernel = open_kernel()
    try:
        count = kernel.risk.rebuild()
    finally:
        kernel.close()
    emit_json({"observations": count}) if as_json else console.print(
        f"{count} observations replayed into the risk windows"
    )


def _print_case(data: dict[str, Any]) -> None:
    console.print(
        f"case {data['case_id']}: {data['status']} {data['alert_type']} on {data['subject']}"
        f" (alerts {len(data['alerts'])}, assignee {data['assignee'] or '-'}"
        + (f", {data['disposition']}" if data["disposition"] else "")
        + ")"
    )


@cases_app.command("list")
def list_cases(
    status: Annotated[str | None, typer.Option(help="open, assigned or closed")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Cases of the kernel's tenant."""
    kernel = open_kernel()
    try:
        found = [c.as_dict() for c in kernel.cases.list(kernel.settings.tenant, status)]
    finally:
        kernel.close()
    if as_json:
        emit_json({"cases": found})
        return
    for case in found:
        _print_case(case)


@cases_app.command("show")
def show(
    case_id: str,
    as_of: Annotated[str | None, typer.Option("--as-of", help="RFC 3339 instant.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """A case and its steps (as of a past time: rebuilt from the ledger)."""
    kernel = open_kernel()
    try:
        data = kernel.cases.get(case_id, kernel.settings.tenant, as_of).as_dict()
    finally:
        kernel.close()
    if as_json:
        emit_json(data)
        return
    _print_case(data)
    for step in data["history"]:
        console.print(f"  #{step['seq']} {step['at']} {step['step']} by {step['actor']}")


def _act(name: str, case_id: str, as_json: bool, **kwargs: Any) -> None:
    kernel = open_kernel()
    try:
        action = getattr(kernel.cases, name)
        data = action(case_id, tenant_id=kernel.settings.tenant, **kwargs).as_dict()
    finally:
        kernel.close()
    emit_json(data) if as_json else _print_case(data)


@cases_app.command("open")
def open_case(
    subject: Annotated[str, typer.Option(help="What the case is about (a reference).")],
    alert_type: Annotated[str, typer.Option("--type", help="e.g. card_testing")],
    note: Annotated[str, typer.Option(help="Why (no personal data).")],
    as_: AsOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Open a case by hand; whoever opens it cannot close it."""
    kernel = open_kernel()
    try:
        data = kernel.cases.open_manual(
            kernel.settings.tenant,
            subject=subject,
            alert_type=alert_type,
            note=note,
            actor=as_ or getpass.getuser(),
        ).as_dict()
    finally:
        kernel.close()
    emit_json(data) if as_json else _print_case(data)


@cases_app.command("assign")
def assign(
    case_id: str,
    to: Annotated[str, typer.Option("--to", help="The officer's principal id.")],
    as_: AsOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Assign a case."""
    _act("assign", case_id, as_json, assignee=to, actor=as_ or getpass.getuser())


@cases_app.command("comment")
def comment(case_id: str, text: str, as_: AsOption = None, as_json: JsonFlag = False) -> None:
    """Comment on a case."""
    _act("comment", case_id, as_json, text=text, actor=as_ or getpass.getuser())


@cases_app.command("close")
def close(
    case_id: str,
    disposition: Annotated[str, typer.Option(help="false_positive, confirmed_fraud, sar_filed")],
    note: Annotated[str, typer.Option(help="Why (no personal data).")],
    as_: AsOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Close a case with a disposition (not by the principal who raised it)."""
    _act(
        "close",
        case_id,
        as_json,
        disposition=disposition,
        note=note,
        actor=as_ or getpass.getuser(),
    )
