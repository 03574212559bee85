"""`paygod aml scan|alerts|alert|thresholds|set-thresholds` on the local kernel."""

from __future__ import annotations

import getpass
from datetime import datetime
from typing import Annotated, Any

import orjson
import typer

from paygod.cli.output import console, emit_json

app = typer.Typer(
    name="aml",
    help="AML typologies over the ledger: alerts, scans, thresholds.",
    no_args_is_help=True,
)

JsonFlag = Annotated[bool, typer.Option("--json", help="Machine-readable JSON on stdout.")]
AsOption = Annotated[
    str | None, typer.Option("--as", help="Acting principal (default: the OS user).")
]
Instant = Annotated[str | None, typer.Option(help="RFC 3339 instant.")]


def _kernel() -> Any:
    from paygod.bootstrap import build_kernel

    return build_kernel()


def _instant(text: str | None, option: str) -> datetime | None:
    from paygod.kernel.clock import parse_instant
    from paygod.kernel.errors import FieldError, InvalidInput

    if text is None:
        return None
    try:
        return parse_instant(text)
    except ValueError:
        raise InvalidInput(
            f"invalid --{option}", errors=[FieldError(f"/{option}", "expected an RFC 3339 instant")]
        ) from None


def _print_alert(a: dict[str, Any]) -> None:
    txns = ", ".join(f"{t['kind']}:{t['id']}#{t['seq']}" for t in a["transactions"][:6])
    more = len(a["transactions"]) - 6
    console.print(
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
    start, end = _instant(from_, "from"), _instant(to, "to")
    kernel = _kernel()
    try:
        result = kernel.aml.scan(kernel.settings.tenant, start, end, record=not dry_run)
    finally:
        kernel.close()
    data = result.as_dict()
    if as_json:
        emit_json(data)
        return
    for hit in data["hits"]:
        state = "raised now" if hit["raised_now"] else "known"
        console.print(f"{hit['alert_id']}  {hit['typology']}  {hit['subject']}  ({state})")
    console.print(f"{len(data['hits'])} hits, {data['raised']} raised now")


@app.command("alerts")
def alerts(
    typology: Annotated[str | None, typer.Option(help="Only this typology.")] = None,
    as_of: Annotated[str | None, typer.Option("--as-of", help="RFC 3339 instant.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """The tenant's AML alerts, oldest first."""
    at = _instant(as_of, "as-of")
    kernel = _kernel()
    try:
        kernel.aml.catch_up()
        found = [a.as_dict() for a in kernel.aml.alerts(kernel.settings.tenant, typology, at)]
    finally:
        kernel.close()
    if as_json:
        emit_json({"alerts": found})
        return
    for a in found:
        _print_alert(a)


@app.command("alert")
def alert(alert_id: str, as_json: JsonFlag = False) -> None:
    """One alert, with the seq of its ledger entry."""
    kernel = _kernel()
    try:
        data = kernel.aml.alert(alert_id, kernel.settings.tenant)
    finally:
        kernel.close()
    emit_json(data) if as_json else _print_alert(data)


@app.command("thresholds")
def thresholds(as_of: Instant = None, as_json: JsonFlag = False) -> None:
    """The tenant's typology thresholds (as of a past time)."""
    at = _instant(as_of, "as-of")
    kernel = _kernel()
    try:
        data = kernel.aml.thresholds(kernel.settings.tenant, at)
    finally:
        kernel.close()
    if as_json:
        emit_json(data)
        return
    for name, value in data["thresholds"].items():
        console.print(f"{name} = {value}")


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
    kernel = _kernel()
    try:
        data = kernel.aml.set_thresholds(kernel.settings.tenant, doc, as_ or getpass.getuser())
    finally:
        kernel.close()
    if as_json:
        emit_json(data)
        return
    console.print(f"AML thresholds sealed at #{data['seq']}")
