"""`paygod risk train|models|model|verify|rebuild` and `paygod cases ...` on the local kernel."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.json import JSON

from paygod.cli.common import AsOption, JsonFlag, actor, emit, open_kernel
from paygod.cli.output import console

if TYPE_CHECKING:
    from paygod.bootstrap import Kernel

app = typer.Typer(name="risk", help="Risk: models, training, windows.", no_args_is_help=True)
cases_app = typer.Typer(
    name="cases", help="Cases: alerts a compliance officer works.", no_args_is_help=True
)


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
    with open_kernel() as kernel:
        registered = kernel.risk.register(artefact, meta, actor=actor(as_))
    emit(
        registered,
        as_json=as_json,
        human=f"risk model {registered['version']} sealed at #{registered['seq']}: "
        f"{meta['training_data']['transactions']} transactions in {meta['training_seconds']} s; "
        + _metrics_line(meta),
    )


@app.command("models")
def models(as_json: JsonFlag = False) -> None:
    """The registry, newest first."""
    with open_kernel() as kernel:
        found = kernel.risk.models()
    emit(
        {"models": found},
        as_json=as_json,
        human=[
            f"{'*' if m['active'] else ' '} v{m['version']} {m['artefact_digest'][:19]}… "
            + _metrics_line(m)
            for m in found
        ],
    )


@app.command("model")
def model(version: int, as_json: JsonFlag = False) -> None:
    """One model: digests, training data, split, metrics, features."""
    with open_kernel() as kernel:
        found = kernel.risk.model(version)
    emit(found, as_json=as_json, human=lambda data: JSON.from_data(data))


@app.command("verify")
def verify(version: int) -> None:
    """Load a model as scoring would: its artefact against the digest sealed in the ledger."""
    from paygod.kernel.errors import NotFound

    with open_kernel() as kernel:
        stored = kernel.risk.store.get(version)
        if stored is None:
            raise NotFound(f"no risk model version {version}")
        kernel.risk.load(stored)
    console.print(f"risk model {version}: artefact matches its sealed digest, loads and compiles")


@app.command("rebuild")
def rebuild(as_json: JsonFlag = False) -> None:
    """Rebuild the risk windows from the ledger's sealed assessments (what start-up does)."""
    with open_kernel() as kernel:
        count = kernel.risk.rebuild()
    emit(
        {"observations": count},
        as_json=as_json,
        human=f"{count} observations replayed into the risk windows",
    )


def _case_line(data: dict[str, Any]) -> str:
    return (
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
    with open_kernel() as kernel:
        found = [c.as_dict() for c in kernel.cases.list(kernel.settings.tenant, status)]
    emit({"cases": found}, as_json=as_json, human=[_case_line(case) for case in found])


@cases_app.command("show")
def show(
    case_id: str,
    as_of: Annotated[str | None, typer.Option("--as-of", help="RFC 3339 instant.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """A case and its steps (as of a past time: rebuilt from the ledger)."""
    with open_kernel() as kernel:
        data = kernel.cases.get(case_id, kernel.settings.tenant, as_of).as_dict()
    emit(
        data,
        as_json=as_json,
        human=[
            _case_line(data),
            *(f"  #{s['seq']} {s['at']} {s['step']} by {s['actor']}" for s in data["history"]),
        ],
    )


def _act(as_json: bool, act: Callable[[Kernel], Any]) -> None:
    """One step on a case, shown as the case after it."""
    with open_kernel() as kernel:
        data = act(kernel).as_dict()
    emit(data, as_json=as_json, human=_case_line)


@cases_app.command("open")
def open_case(
    subject: Annotated[str, typer.Option(help="What the case is about (a reference).")],
    alert_type: Annotated[str, typer.Option("--type", help="e.g. card_testing")],
    note: Annotated[str, typer.Option(help="Why (no personal data).")],
    as_: AsOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Open a case by hand; whoever opens it cannot close it."""
    _act(
        as_json,
        lambda kernel: kernel.cases.open_manual(
            kernel.settings.tenant,
            subject=subject,
            alert_type=alert_type,
            note=note,
            actor=actor(as_),
        ),
    )


@cases_app.command("assign")
def assign(
    case_id: str,
    to: Annotated[str, typer.Option("--to", help="The officer's principal id.")],
    as_: AsOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Assign a case."""
    _act(
        as_json,
        lambda kernel: kernel.cases.assign(
            case_id, tenant_id=kernel.settings.tenant, assignee=to, actor=actor(as_)
        ),
    )


@cases_app.command("comment")
def comment(case_id: str, text: str, as_: AsOption = None, as_json: JsonFlag = False) -> None:
    """Comment on a case."""
    _act(
        as_json,
        lambda kernel: kernel.cases.comment(
            case_id, tenant_id=kernel.settings.tenant, text=text, actor=actor(as_)
        ),
    )


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
        as_json,
        lambda kernel: kernel.cases.close(
            case_id,
            tenant_id=kernel.settings.tenant,
            disposition=disposition,
            note=note,
            actor=actor(as_),
        ),
    )
