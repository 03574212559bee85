"""`paygod credit schedule|apr`: the credit calculators, no kernel needed."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from paygod.cli.output import console, emit_json

app = typer.Typer(
    name="credit",
    help="Credit: repayment schedules and the Regulation Z APR.",
    no_args_is_help=True,
)

JsonFlag = Annotated[bool, typer.Option("--json", help="Machine-readable JSON on stdout.")]


@app.command("schedule")
def schedule(
    principal: Annotated[int, typer.Option(help="Principal lent, in minor units.")],
    currency: Annotated[str, typer.Option(help="ISO 4217 code (fixes the minor unit).")],
    annual_rate: Annotated[
        str,
        typer.Option(
            "--annual-rate",
            help="Nominal annual rate: 6.5% is a percent; a plain number of 1 or more is a "
            "percent too (6.5 is 6.5 %), below 1 a fraction (0.065 is 6.5 %). Above 1000 % "
            "is refused.",
        ),
    ],
    payments: Annotated[int, typer.Option(help="Number of instalments.")],
    frequency: Annotated[str, typer.Option(help="monthly, biweekly or weekly.")],
    day_count: Annotated[str, typer.Option("--day-count", help="30/360 or actual/365.")],
    start: Annotated[str, typer.Option(help="Disbursement date YYYY-MM-DD.")],
    rounding: Annotated[str, typer.Option(help="half-even (default) or half-up.")] = "half-even",
    as_json: JsonFlag = False,
) -> None:
    """A level-payment amortisation schedule in minor units."""
    from paygod.credit.schedule import amortize, parse_terms

    terms = parse_terms(
        principal=principal,
        currency=currency,
        annual_rate=annual_rate,
        payments=payments,
        frequency=frequency,
        day_count=day_count,
        start=start,
        rounding=rounding,
    )
    result = amortize(terms).as_dict()
    if as_json:
        emit_json(result)
        return
    from rich.table import Table

    table = Table(title=f"level payment {result['level_payment']} {currency} (minor units)")
    for column in ("n", "due_date", "payment", "interest", "principal", "balance"):
        table.add_column(column, justify="left" if column == "due_date" else "right")
    for row in result["rows"]:
        table.add_row(*(str(row[key]) for key in row))
    totals = result["totals"]
    table.add_row(
        "", "total", str(totals["payments"]), str(totals["interest"]), str(totals["principal"]), ""
    )
    console.print(table)


@app.command("apr")
def apr(
    file: Annotated[Path, typer.Option("--file", help="JSON case ('-' for standard input).")],
    as_json: JsonFlag = False,
) -> None:
    """The APR of a single-advance case by Regulation Z Appendix J's actuarial method."""
    import sys

    from paygod.credit.apr import annual_percentage_rate, parse_case
    from paygod.kernel.jsonio import parse_json, read_json_file

    document = (
        parse_json(sys.stdin.buffer.read(), source="standard input")
        if str(file) == "-"
        else read_json_file(file)
    )
    result = annual_percentage_rate(parse_case(document))
    if as_json:
        emit_json(result.as_dict())
    else:
        console.print(f"APR {result.as_dict()['apr']} %")
