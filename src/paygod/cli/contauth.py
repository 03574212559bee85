"""`paygod contauth train|status|eval|thresholds|purge` on the local kernel."""

from __future__ import annotations

import getpass
from pathlib import Path
from typing import Annotated, Any

import typer

from paygod.cli.common import JsonFlag, TenantOption, emit, open_kernel, tenant_kernel

app = typer.Typer(
    name="contauth",
    help="Continuous authentication: keystroke models, session trust, thresholds.",
    no_args_is_help=True,
)

DataOption = Annotated[
    Path | None,
    typer.Option("--data", help="A CSV in the CMU keystroke benchmark layout."),
]


def _training_sets(
    kernel: Any, tenant: str, principal: str | None, data: Path | None, subject: str | None
) -> Any:
    from paygod.contauth import cmu, registry
    from paygod.kernel.errors import FieldError, InvalidInput

    if data is not None:
        rows = cmu.read(data)
        if principal is not None:
            return [(principal, registry.from_file(rows, subject or principal))]
        return [(s, registry.from_file(rows, s)) for s in sorted({r.subject for r in rows})]
    if subject is not None:
        raise InvalidInput(
            "--subject names a subject of a --data file",
            errors=[FieldError("/subject", "needs --data")],
        )
    if principal is None:
        found = sorted(
            {f.principal_id for f in kernel.contauth.store.features(tenant, "keystroke")}
        )
        if not found:
            raise InvalidInput(
                "no keystroke samples recorded in this tenant; give --data FILE",
                errors=[FieldError("/data", "required when nothing was recorded")],
            )
        return [(p, registry.from_sessions(kernel.contauth.store, tenant, p)) for p in found]
    return [(principal, registry.from_sessions(kernel.contauth.store, tenant, principal))]


@app.command("train")
def train(
    principal: Annotated[
        str | None, typer.Option(help="Principal id the model is registered to.")
    ] = None,
    data: DataOption = None,
    subject: Annotated[
        str | None,
        typer.Option(help="With --data: the file's subject who is the principal (default: P)."),
    ] = None,
    tenant: TenantOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Train and seal a keystroke model per principal (from recorded sessions, or --data).

    With --data and no --principal: one model per subject of the file, registered under the
    subject's name."""
    from paygod.contauth import registry

    with tenant_kernel(tenant) as (kernel, tenant_id):
        sealed = []
        for principal_id, data_set in _training_sets(kernel, tenant_id, principal, data, subject):
            artefact, meta = registry.train(data_set)
            sealed.append(
                kernel.contauth.registry.register(
                    tenant_id, principal_id, artefact, meta, actor=getpass.getuser()
                )
            )
    emit(
        {"models": sealed},
        as_json=as_json,
        human=[
            f"{m['principal_id']}: model {m['version']} ({m['detector']}) sealed at #{m['seq']}; "
            f"held-out EER {m['metrics'].get('eer')}"
            for m in sealed
        ],
    )


@app.command("status")
def status(
    principal: Annotated[
        str | None, typer.Option(help="A principal's models and sessions.")
    ] = None,
    tenant: TenantOption = None,
    as_json: JsonFlag = False,
) -> None:
    """The tenant's thresholds; with --principal, its models and sessions' trust."""
    with tenant_kernel(tenant) as (kernel, tenant_id):
        found: dict[str, Any] = {
            "tenant_id": tenant_id,
            "thresholds": kernel.contauth.thresholds(tenant_id).as_dict(),
        }
        if principal is not None:
            found["models"] = kernel.contauth.registry.describe(tenant_id, principal)
            found["sessions"] = [
                s.as_dict() for s in kernel.contauth.store.sessions(tenant_id, principal)[:20]
            ]
    t = found["thresholds"]
    emit(
        found,
        as_json=as_json,
        human=[
            f"tenant {tenant_id}: step-up below {t['step_up']}, end below {t['terminate']}",
            *(
                f" {'*' if m.get('active') else ' '} model {m['version']} {m.get('detector')} "
                f"EER {m.get('metrics')}"
                for m in found.get("models", [])
            ),
            *(
                f"   session {s['session_id']}: {s['state']} trust {s['trust']}"
                for s in found.get("sessions", [])
            ),
        ],
    )


@app.command("eval")
def evaluate(
    data: DataOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Equal error rates by Killourhy & Maxion's protocol (default: the shipped synthetic set)."""
    from paygod.contauth import cmu, evaluation, synthetic

    rows = cmu.read(data or synthetic.SHIPPED)
    results = [
        evaluation.evaluate(rows, d).as_dict()
        for d in ("scaled_manhattan", "isolation_forest", "random_forest")
    ]
    emit(
        {"data": str(data or synthetic.SHIPPED), "results": results},
        as_json=as_json,
        human=[
            f"{r['detector']:>18}: EER {r['eer_mean']:.4f} ± {r['eer_std']:.4f}" for r in results
        ],
    )


@app.command("thresholds")
def thresholds(
    step_up: Annotated[float, typer.Option("--step-up", help="Demand step-up below this.")],
    terminate: Annotated[float, typer.Option("--terminate", help="End sessions below this.")],
    tenant: TenantOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Set (and seal) the tenant's trust thresholds."""
    from paygod.contauth.model import Thresholds

    with tenant_kernel(tenant) as (kernel, tenant_id):
        found = kernel.contauth.set_thresholds(
            tenant_id, Thresholds(step_up, terminate), actor=getpass.getuser()
        )
    emit(found, as_json=as_json, human=f"thresholds of {tenant_id} sealed at #{found['seq']}")


@app.command("purge")
def purge(as_json: JsonFlag = False) -> None:
    """Delete behavioural features past their retention class (their digests stay sealed)."""
    with open_kernel() as kernel:
        count = kernel.contauth.purge()
    emit({"purged": count}, as_json=as_json, human=f"{count} feature record(s) purged")
