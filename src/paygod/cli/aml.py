"""`paygod aml scan|alerts|alert|thresholds|set-thresholds` on the local kernel."""

from __future__ import annotations

from typing import Annotated, Any

import orjson
import typer

from paygod.cli.common import AsOption, JsonFlag, actor, emit, instant, open_kernel

app = typer.Typer(
    name="aml",
    help="AML typologies over the ledger: alerts, scans, thresholds.",
    no_args_is_help=True,
)

Instant = Annotated[str | None, typer.Option(help="RFC 3339 instant.")]


def _alert_line(a: dict[str, Any]) -> str:
    txns = ", ".join(f"{t['kind']}:{t['id']}#{t['seq']}" for t in a["transactions"][:6])
    more = len(a["transactions"]) - 6
    return (
        f"{a['alert_id']}  {a['typology']}  {a['subject']}  raised {a['raised_at']}  [{txns}"
        + (f", +{more}" if more > 0 else "")
        + "]"
    )


@app.command("scan")
def scan(
    from_: Annotated[str | None, typer.Option("--from", help="RFC 3339 instant.")] = None,
    to: Instant = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Report the hits; raise no alert.")
    ] = False,
    as_json: JsonFlag = False,
) -> None:
    """Run every typology over the tenant's history (movements sealed in [from, to]);
    raises the hits no earlier pass raised."""
    start, end = instant(from_, "--from", "/from"), instant(to, "--to", "/to")
    with open_kernel() as kernel:
        data = kernel.aml.scan(kernel.settings.tenant, start, end, record=not dry_run).as_dict()
    emit(
        data,
        as_json=as_json,
        human=[
            *(
                f"{hit['alert_id']}  {hit['typology']}  {hit['subject']}  "
                f"({'raised now' if hit['raised_now'] else 'known'})"
                for hit in data["hits"]
            ),
            f"{len(data['hits'])} hits, {data['raised']} raised now",
        ],
    )


@app.command("alerts")
def alerts(
    typology: Annotated[str | None, typer.Option(help="Only this typology.")] = None,
    as_of: Annotated[str | None, typer.Option("--as-of", help="RFC 3339 instant.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """The tenant's AML alerts, oldest first."""
    at = instant(as_of, "--as-of", "/as-of")
    with open_kernel() as kernel:
        kernel.aml.catch_up()
        found = [a.as_dict() for a in kernel.aml.alerts(kernel.settings.tenant, typology, at)]
    emit({"alerts": found}, as_json=as_json, human=[_alert_line(a) for a in found])


@app.command("alert")
def alert(alert_id: str, as_json: JsonFlag = False) -> None:
    """One alert, with the seq of its ledger entry."""
    with open_kernel() as kernel:
        data = kernel.aml.alert(alert_id, kernel.settings.tenant)
    emit(data, as_json=as_json, human=_alert_line)


@app.command("thresholds")
def thresholds(as_of: Instant = None, as_json: JsonFlag = False) -> None:
    """The tenant's typology thresholds (as of a past time)."""
    at = instant(as_of, "--as-of", "/as-of")
    with open_kernel() as kernel:
        data = kernel.aml.thresholds(kernel.settings.tenant, at)
    emit(
        data,
        as_json=as_json,
        human=[f"{name} = {value}" for name, value in data["thresholds"].items()],
    )


@app.command("set-thresholds")
def set_thresholds(
    changes: Annotated[str, typer.Argument(help='JSON object, e.g. {"fan_count": 20}')],
    as_: AsOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Change some thresholds (sealed; applies to movements sealed after it)."""
    from paygod.kernel.errors import FieldError, InvalidInput

    try:
        doc = orjson.loads(changes)
    except orjson.JSONDecodeError as exc:
        raise InvalidInput(
            "invalid thresholds", errors=[FieldError("", f"not JSON: {exc}")]
        ) from None
    with open_kernel() as kernel:
        data = kernel.aml.set_thresholds(kernel.settings.tenant, doc, actor(as_))
    emit(data, as_json=as_json, human=f"AML thresholds sealed at #{data['seq']}")
