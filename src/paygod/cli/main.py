"""`paygod`: the command line. Each module contributes one command group."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from paygod import __version__
from paygod.cli.common import JsonFlag, emit
from paygod.cli.errors import guarded

app = typer.Typer(
    name="paygod",
    help="Governed execution kernel for money-moving and high-risk automated actions.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.command()
def version(as_json: JsonFlag = False) -> None:
    """Print the Paygod version."""
    emit({"version": __version__}, as_json=as_json, human=f"paygod {__version__}")


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Bind address (default PAYGOD_HOST).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default PAYGOD_PORT, 8080).")] = None,
    workers: Annotated[int, typer.Option(min=1, max=64, help="API processes.")] = 1,
    tls_cert: Annotated[Path | None, typer.Option(help="Server certificate (PEM).")] = None,
    tls_key: Annotated[Path | None, typer.Option(help="Server private key (PEM).")] = None,
    client_ca: Annotated[
        Path | None, typer.Option(help="CA (PEM) for client certificates: mutual TLS.")
    ] = None,
) -> None:
    """Start the HTTP API (standalone: SQLite under PAYGOD_HOME)."""
    from paygod.cli.serve import serve as run_server
    from paygod.cli.serve import tls_options

    tls = tls_options(tls_cert, tls_key, client_ca)
    run_server(host=host, port=port, workers=workers, tls=tls)


@app.command()
def doctor(as_json: JsonFlag = False) -> None:
    """Check the configured store, Redis and NATS, and print a table."""
    from paygod.cli.doctor import doctor as run_doctor

    run_doctor(as_json=as_json)


@app.command()
def migrate(as_json: JsonFlag = False) -> None:
    """Create or upgrade the schema of the configured store (run before `serve` in a release)."""
    from paygod.bootstrap import database_from_settings
    from paygod.kernel.database import applied_heads, migration_heads
    from paygod.kernel.database import migrate as upgrade
    from paygod.kernel.filemodes import private_home
    from paygod.kernel.settings import load_settings

    settings = load_settings()
    private_home(settings.home)
    db = database_from_settings(settings)
    try:
        before = applied_heads(db)
        upgrade(db)
        after = applied_heads(db)
    finally:
        db.close()
    changed = before != after
    emit(
        {"migrated": changed, "heads": sorted(after), "wanted": sorted(migration_heads())},
        as_json=as_json,
        human=("schema upgraded to " if changed else "schema current at ")
        + ", ".join(sorted(after)),
    )


@app.command()
def canonical(
    file: Annotated[Path, typer.Argument(help="A JSON file ('-' for standard input).")],
    hash_: Annotated[
        bool, typer.Option("--hash", help="Print sha256:<hex> of the canonical form instead.")
    ] = False,
) -> None:
    """Print the RFC 8785 canonical form of a JSON file, or its sha256 digest."""
    from paygod.canonical import CanonicalizationError, canonicalize, digest
    from paygod.kernel.errors import FieldError, InvalidInput
    from paygod.kernel.jsonio import parse_json, read_json_file

    value = (
        parse_json(sys.stdin.buffer.read(), source="standard input", ieee_numbers=True)
        if str(file) == "-"
        else read_json_file(file, ieee_numbers=True)
    )
    try:
        if hash_:
            sys.stdout.write(digest(value) + "\n")
        else:
            sys.stdout.buffer.write(canonicalize(value))
            if sys.stdout.isatty():
                sys.stdout.write("\n")
    except CanonicalizationError as exc:
        raise InvalidInput(
            f"{file} has no RFC 8785 form", errors=[FieldError(exc.pointer, str(exc))]
        ) from None


from paygod.cli import decisions as _decisions_cli  # noqa: E402 - commands register on import

app.add_typer(_decisions_cli.app)

from paygod.cli import executor as _executor_cli  # noqa: E402
from paygod.cli import panic as _panic_cli  # noqa: E402
from paygod.cli import payments as _payments_cli  # noqa: E402

app.add_typer(_panic_cli.app)
_executor_cli.register(app)  # `paygod executor ...` and `paygod worker`

from paygod.cli import events as _events_cli  # noqa: E402

_events_cli.register(app)  # `paygod events ...` and `paygod relay`

from paygod.cli.cluster import cluster as _cluster_command  # noqa: E402

app.command("cluster")(_cluster_command)

from paygod.cli import actions as _actions_cli  # noqa: E402

app.add_typer(_actions_cli.app)
app.add_typer(_payments_cli.app)

from paygod.cli import ledger as _ledger_cli  # noqa: E402

app.add_typer(_ledger_cli.app)

from paygod.cli import identity as _identity_cli  # noqa: E402

_identity_cli.register(app)  # `paygod init`, `users`, `agents`, `keys`, `audit access`

from paygod.cli import accounting as _accounting_cli  # noqa: E402

app.add_typer(_accounting_cli.accounts_app, name="accounts")
app.add_typer(_accounting_cli.transfers_app, name="transfers")
app.add_typer(_accounting_cli.reconcile_app, name="reconcile")
from paygod.cli import proofs as _proofs_cli  # noqa: E402 - `accounts close-period|prove`

app.command("verify-balance")(_proofs_cli.verify_balance)
from paygod.cli import cash as _cash_cli  # noqa: E402

app.add_typer(_cash_cli.app, name="cash")
from paygod.cli import documents as _documents_cli  # noqa: E402
from paygod.cli import notifications as _notifications_cli  # noqa: E402

app.add_typer(_notifications_cli.app, name="notifications")
app.add_typer(_documents_cli.app, name="documents")

from paygod.cli import credit as _credit_cli  # noqa: E402

app.add_typer(_credit_cli.app)
from paygod.cli import compliance as _compliance_cli  # noqa: E402

app.add_typer(_compliance_cli.sanctions_app, name="sanctions")
app.add_typer(_compliance_cli.kyc_app, name="kyc")
from paygod.cli import assurance as _assurance_cli  # noqa: E402

app.add_typer(_assurance_cli.compliance_app)
app.add_typer(_assurance_cli.reports_app)
from paygod.cli import credits as _credits_cli  # noqa: E402

app.add_typer(_credits_cli.app, name="credits")
from paygod.cli import risk as _risk_cli  # noqa: E402

app.add_typer(_risk_cli.app)
app.add_typer(_risk_cli.cases_app)
from paygod.cli import contauth as _contauth_cli  # noqa: E402

app.add_typer(_contauth_cli.app)
from paygod.cli import privacy as _privacy_cli  # noqa: E402

app.add_typer(_privacy_cli.gdpr_app)
app.add_typer(_privacy_cli.retention_app)
from paygod.cli import mandates as _mandates_cli  # noqa: E402

app.add_typer(_mandates_cli.app)
from paygod.cli import aml as _aml_cli  # noqa: E402

app.add_typer(_aml_cli.app)
from paygod.cli import banking as _banking_cli  # noqa: E402

_banking_cli.register(app)  # `paygod projections ...`, `paygod backup`, `paygod restore`


def run() -> None:
    """Console-script entry point."""
    from paygod.kernel.logging import configure_logging

    # Log lines go to stderr, redacted, for every command: stdout is for results (`--json`).
    # `serve`, `relay` and `cluster` reconfigure from PAYGOD_LOG_LEVEL / PAYGOD_LOG_JSON.
    configure_logging("info", json_lines=False)
    guarded(app)


if __name__ == "__main__":
    run()
