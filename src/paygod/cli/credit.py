"""`paygod credit schedule|apr`: the credit calculators, no kernel needed; `apply`, `offer`,
`applications`, `accept`, `withdraw`, `disburse`, `repay`, `loans`, `portfolio` on the local
kernel."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Column

from paygod.cli.common import AsOption, JsonFlag, actor, emit, instant, open_kernel
from paygod.cli.output import table

app = typer.Typer(
    name="credit",
    help="Credit: schedules, the Regulation Z APR, applications, loans and the portfolio.",
    no_args_is_help=True,
)


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
    interest_only: Annotated[
        int,
        typer.Option(
            "--interest-only",
            help="Payments of interest alone first (0 to payments − 1); the principal is "
            "amortised over the payments after them.",
        ),
    ] = 0,
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
        interest_only=interest_only,
    )
    result = amortize(terms).as_dict()
    totals = result["totals"]
    emit(
        result,
        as_json=as_json,
        human=table(
            [
                Column(c, justify="left" if c == "due_date" else "right")
                for c in ("n", "due_date", "payment", "interest", "principal", "balance")
            ],
            [
                *(row.values() for row in result["rows"]),
                ("", "total", totals["payments"], totals["interest"], totals["principal"], ""),
            ],
            title=f"level payment {result['level_payment']} {currency} (minor units)",
        ),
    )


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
    result = annual_percentage_rate(parse_case(document)).as_dict()
    emit(result, as_json=as_json, human=f"APR {result['apr']} %")


# -- the credit workflow, on the local kernel --------------------------------------------

AtOption = Annotated[
    str | None, typer.Option("--at", help="An RFC 3339 instant: the state recorded by then.")
]


def _object_file(file: Path) -> dict[str, Any]:
    import sys

    from paygod.kernel.errors import FieldError, InvalidInput
    from paygod.kernel.jsonio import parse_json, read_json_file

    document = (
        parse_json(sys.stdin.buffer.read(), source="standard input")
        if str(file) == "-"
        else read_json_file(file)
    )
    if not isinstance(document, dict):
        raise InvalidInput(
            f"{file}: expected a JSON object", errors=[FieldError("", "not an object")]
        )
    return document


@app.command("apply")
def apply(
    file: Annotated[Path, typer.Option("--file", help="JSON application ('-' for stdin).")],
    idempotency_key: Annotated[str | None, typer.Option("--idempotency-key")] = None,
    as_: AsOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Apply for credit: bureau, scorecard, affordability → offered or declined (sealed)."""
    body = _object_file(file)
    with open_kernel() as kernel:
        application, _ = kernel.lending.submit(
            body,
            tenant_id=kernel.settings.tenant,
            applicant=actor(as_),
            idempotency_key=idempotency_key,
        )
    data = application.as_dict()
    reasons = ", ".join(r["code"] for r in (application.underwriting or {}).get("reasons", []))
    emit(
        data,
        as_json=as_json,
        human=f"application {application.application_id}: {data['status']} {reasons}",
    )


@app.command("offer")
def offer(application_id: str, at: AtOption = None, as_json: JsonFlag = False) -> None:
    """An application's offer (TILA disclosure, schedule) or its decline reasons."""
    with open_kernel() as kernel:
        application = kernel.lending.get(application_id, at=instant(at, "--at"))
    data = {
        "application_id": application.application_id,
        "status": application.status.value,
        "offer": application.offer,
        "underwriting": application.underwriting,
    }
    disclosure = (application.offer or {}).get("disclosure", {})
    emit(
        data,
        as_json=as_json,
        human=f"application {application_id}: {data['status']}"
        + (f", APR {disclosure['annual_percentage_rate']} %" if disclosure else ""),
    )


@app.command("accept")
def accept(application_id: str, as_: AsOption = None, as_json: JsonFlag = False) -> None:
    """Sign the offer's contract as the applicant (its digest is sealed)."""
    with open_kernel() as kernel:
        application = kernel.lending.accept(application_id, tenant_id=None, signer=actor(as_))
    contract = application.contract or {}
    emit(
        application.as_dict(),
        as_json=as_json,
        human=f"application {application_id}: accepted, contract {contract.get('document_digest')}",
    )


@app.command("applications")
def applications(
    status: Annotated[
        str | None,
        typer.Option(
            "--status",
            help="Only those in this state: "
            "submitted, checked, assessed, offered, declined, accepted, expired, withdrawn.",
        ),
    ] = None,
    at: AtOption = None,
    after: Annotated[
        str | None, typer.Option("--after", help="The last id of the page before.")
    ] = None,
    limit: Annotated[int, typer.Option("--limit", help="At most this many (1 to 1000).")] = 100,
    as_json: JsonFlag = False,
) -> None:
    """The tenant's applications, oldest first, as recorded now or by --at."""
    from paygod.credit.model import ApplicationStatus
    from paygod.kernel.errors import FieldError, InvalidInput

    wanted = None
    if status is not None:
        try:
            wanted = ApplicationStatus(status)
        except ValueError:
            names = ", ".join(s.value for s in ApplicationStatus)
            raise InvalidInput(
                f"--status {status!r} is not one of {names}",
                errors=[FieldError("--status", f"one of {names}")],
            ) from None
    if not 1 <= limit <= 1000:
        raise InvalidInput(
            f"--limit {limit} is not between 1 and 1000", errors=[FieldError("--limit", "1-1000")]
        )
    when = instant(at, "--at")
    with open_kernel() as kernel:
        if after is not None and after not in kernel.lending.application_ids(
            kernel.settings.tenant, at=when
        ):
            raise InvalidInput(
                f"--after {after!r} is not an application of this list",
                errors=[FieldError("--after", "the last id of the page before")],
            )
        found = kernel.lending.applications(
            kernel.settings.tenant, status=wanted, at=when, after=after, limit=limit
        )
    data = {
        "applications": [a.as_dict() for a in found],
        "next_after": found[-1].application_id if len(found) == limit else None,
    }
    emit(
        data,
        as_json=as_json,
        human=[
            f"{a.application_id} {a.status.value} {a.amount} {a.currency} {a.product_id} "
            f"by {a.applicant}, updated {a.updated_at}"
            for a in found
        ],
    )


@app.command("withdraw")
def withdraw(
    application_id: str,
    reason: Annotated[
        str | None, typer.Option("--reason", help="Why (sealed in the ledger; 1 to 200 chars).")
    ] = None,
    as_: AsOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Withdraw an application before acceptance (sealed; exit 1 once accepted or ended)."""
    from paygod.credit.service import parse_withdrawal

    cause = parse_withdrawal({} if reason is None else {"reason": reason})
    with open_kernel() as kernel:
        application = kernel.lending.withdraw(
            application_id, tenant_id=None, owner=None, by=actor(as_), reason=cause
        )
    emit(
        application.as_dict(),
        as_json=as_json,
        human=f"application {application_id}: withdrawn "
        f"(was {(application.withdrawal or {}).get('from_status')})",
    )


@app.command("disburse")
def disburse(
    loan_id: str,
    payout: Annotated[
        Path | None,
        typer.Option("--payout", help="JSON {payee, rail_preference?}: pay out by rail."),
    ] = None,
    as_: AsOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Disburse an accepted contract: receivable, borrower wallet, fee income (sealed)."""
    payout_body = _object_file(payout) if payout is not None else None
    with open_kernel() as kernel:
        data = kernel.loans.disburse(
            loan_id, tenant_id=None, operator=actor(as_), payout=payout_body
        )
    emit(
        data,
        as_json=as_json,
        human=f"loan {loan_id}: {data['status']}, {data['principal']} {data['currency']}",
    )


@app.command("repay")
def repay(
    loan_id: str,
    amount: Annotated[str, typer.Option(help="Amount in minor units.")],
    currency: Annotated[str, typer.Option(help="The loan's currency.")],
    idempotency_key: Annotated[
        str, typer.Option("--idempotency-key", help="A retry with the same key pays once.")
    ],
    from_account: Annotated[
        str | None, typer.Option("--from-account", help="Default: the loan's wallet.")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """A repayment: fees → interest → principal of due instalments, the rest early."""
    from paygod.kernel.errors import FieldError, InvalidInput

    if not amount.isdigit():
        raise InvalidInput(
            f"--amount {amount!r} is not a positive whole number of minor units",
            errors=[FieldError("--amount", "minor units")],
        )
    from paygod.kernel.identifiers import identifier_problem

    if problem := identifier_problem(idempotency_key):
        raise InvalidInput(
            f"--idempotency-key {problem}", errors=[FieldError("--idempotency-key", problem)]
        )
    body: dict[str, Any] = {"amount": int(amount), "currency": currency}
    if from_account is not None:
        body["from_account"] = from_account
    with open_kernel() as kernel:
        data, _ = kernel.loans.repay(
            loan_id, body, tenant_id=None, owner=None, idempotency_key=idempotency_key
        )
    allocation = data["repayment"]["allocation"]
    emit(
        data,
        as_json=as_json,
        human=f"loan {loan_id}: {data['loan']['status']}, paid fees {allocation['fees']} interest "
        f"{allocation['interest']} principal {allocation['principal']}, outstanding "
        f"{data['loan']['principal_outstanding']}",
    )


@app.command("loans")
def loans(
    loan_id: Annotated[str | None, typer.Argument(help="One loan (default: every loan).")] = None,
    at: AtOption = None,
    as_json: JsonFlag = False,
) -> None:
    """The tenant's loans, or one loan with its instalments, now or as of --at."""
    when = instant(at, "--at")
    with open_kernel() as kernel:
        service = kernel.loans
        if loan_id is not None:
            data: dict[str, Any] = {
                **service.view(service.get(loan_id, at=when), when),
                "history": service.history(loan_id),
            }
            shown = [data]
        else:
            shown = [
                service.view(loan, when) for loan in service.loans(kernel.settings.tenant, at=when)
            ]
            data = {"loans": shown}
    emit(
        data,
        as_json=as_json,
        human=[
            f"{loan['loan_id']} {loan['status']} {loan['principal_outstanding']} "
            f"{loan['currency']} outstanding, {loan['days_past_due']} days past due"
            for loan in shown
        ],
    )


@app.command("portfolio")
def portfolio(at: AtOption = None, as_json: JsonFlag = False) -> None:
    """Outstanding, delinquency by bucket and expected loss, now or as of --at."""
    when = instant(at, "--at")
    with open_kernel() as kernel:
        data = kernel.loans.portfolio(kernel.settings.tenant, at=when)
    emit(
        data,
        as_json=as_json,
        human=[
            f"{currency}: {book['loans']} loans, outstanding {book['outstanding']}, delinquency "
            f"{book['delinquency_rate']}, expected loss {book['expected_loss']}"
            for currency, book in data["currencies"].items()
        ],
    )


line_app = typer.Typer(
    name="line",
    help="Revolving credit lines: open, draw, repay, show, list, close.",
    no_args_is_help=True,
)
app.add_typer(line_app)


def _move_body(amount: str, currency: str, idempotency_key: str) -> dict[str, Any]:
    """A draw's or repayment's options checked here, each refusal one line (exit 2)."""
    from paygod.kernel.errors import FieldError, InvalidInput
    from paygod.kernel.identifiers import identifier_problem

    if not amount.isdigit() or int(amount) <= 0:
        raise InvalidInput(
            f"--amount {amount!r} is not a positive whole number of minor units",
            errors=[FieldError("--amount", "minor units")],
        )
    if problem := identifier_problem(idempotency_key):
        raise InvalidInput(
            f"--idempotency-key {problem}", errors=[FieldError("--idempotency-key", problem)]
        )
    return {"amount": int(amount), "currency": currency}


def _line_line(line: dict[str, Any]) -> str:
    return (
        f"line {line['line_id']}: {line['status']}, balance {line['principal_balance']} "
        f"{line['currency']}, interest {line['accrued_interest']}, available "
        f"{line['available_credit']}, minimum payment {line['minimum_payment']}"
    )


@line_app.command("open")
def line_open(line_id: str, as_json: JsonFlag = False) -> None:
    """Open an accepted credit line contract: its accounts booked, the line sealed."""
    with open_kernel() as kernel:
        data = kernel.credit_lines.open(line_id, tenant_id=None)
    emit(data, as_json=as_json, human=_line_line(data))


@line_app.command("draw")
def line_draw(
    line_id: str,
    amount: Annotated[str, typer.Option(help="Amount in minor units.")],
    currency: Annotated[str, typer.Option(help="The line's currency.")],
    idempotency_key: Annotated[
        str, typer.Option("--idempotency-key", help="A retry with the same key draws once.")
    ],
    as_json: JsonFlag = False,
) -> None:
    """Draw within the available credit, to the borrower's wallet."""
    body = _move_body(amount, currency, idempotency_key)
    with open_kernel() as kernel:
        data, _ = kernel.credit_lines.draw(
            line_id, body, tenant_id=None, owner=None, idempotency_key=idempotency_key
        )
    emit(data, as_json=as_json, human=_line_line(data["line"]))


@line_app.command("repay")
def line_repay(
    line_id: str,
    amount: Annotated[str, typer.Option(help="Amount in minor units.")],
    currency: Annotated[str, typer.Option(help="The line's currency.")],
    idempotency_key: Annotated[
        str, typer.Option("--idempotency-key", help="A retry with the same key pays once.")
    ],
    from_account: Annotated[
        str | None, typer.Option("--from-account", help="Default: the line's wallet.")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Repay: the interest accrued to now first, then principal."""
    body = _move_body(amount, currency, idempotency_key)
    if from_account is not None:
        body["from_account"] = from_account
    with open_kernel() as kernel:
        data, _ = kernel.credit_lines.repay(
            line_id, body, tenant_id=None, owner=None, idempotency_key=idempotency_key
        )
    move = data["move"]
    emit(
        data,
        as_json=as_json,
        human=f"paid interest {move['interest']} principal {move['principal']}; "
        + _line_line(data["line"]),
    )


@line_app.command("show")
def line_show(line_id: str, at: AtOption = None, as_json: JsonFlag = False) -> None:
    """One line: balance, interest, available credit, minimum payment, now or as of --at."""
    when = instant(at, "--at")
    with open_kernel() as kernel:
        service = kernel.credit_lines
        data = {
            **service.view(service.get(line_id, at=when), when),
            "transitions": service.history(line_id),
        }
    emit(data, as_json=as_json, human=_line_line(data))


@line_app.command("list")
def line_list(at: AtOption = None, as_json: JsonFlag = False) -> None:
    """The tenant's credit lines, now or as of --at."""
    when = instant(at, "--at")
    with open_kernel() as kernel:
        service = kernel.credit_lines
        shown = [
            service.view(line, when) for line in service.lines(kernel.settings.tenant, at=when)
        ]
    emit({"lines": shown}, as_json=as_json, human=[_line_line(line) for line in shown])


@line_app.command("close")
def line_close(line_id: str, as_json: JsonFlag = False) -> None:
    """Close a line that owes nothing (no principal, no interest)."""
    with open_kernel() as kernel:
        data = kernel.credit_lines.close(line_id, tenant_id=None, owner=None)
    emit(data, as_json=as_json, human=_line_line(data))
