"""`paygod projections ...`, `paygod backup`, `paygod restore`: the ledger as the event store.

Exit codes: 0 ok, 1 a check failed (a projection differs from the ledger, a backup does not
verify), 2 bad input (an unknown projection, a non-empty target), 3 store unavailable.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from paygod.cli.common import JsonFlag, emit, open_kernel
from paygod.kernel.errors import CheckFailed

app = typer.Typer(
    name="projections",
    help="Tables rebuilt from the ledger: status, rebuild, check.",
    no_args_is_help=True,
)
NameArg = Annotated[
    str | None, typer.Argument(help="One projection (default: all of them).", show_default=False)
]


@app.command("status")
def status(name: NameArg = None, as_json: JsonFlag = False) -> None:
    """Each projection's position, and its lag behind the ledger in entries and seconds."""
    with open_kernel() as kernel:
        found = kernel.projections.status(name)
    emit(
        {"projections": [s.as_dict() for s in found]},
        as_json=as_json,
        human=[
            f"{s.name}: {s.state}, position {s.position} of {s.head}, "
            f"lag {s.lag_entries} entries / {s.lag_seconds}s "
            f"(tables {', '.join(s.tables)}; rebuilt {s.rebuilt_at or 'never'})"
            for s in found
        ],
    )


@app.command("rebuild")
def rebuild(name: NameArg = None, as_json: JsonFlag = False) -> None:
    """Rebuild from the ledger into new tables and switch them in atomically."""
    with open_kernel() as kernel:
        reports = kernel.projections.rebuild(name)
    emit(
        {"rebuilt": [r.as_dict() for r in reports]},
        as_json=as_json,
        human=[
            f"{r.name}: rebuilt at position {r.position}; rows: {_rows(r.rows)}" for r in reports
        ]
        + [
            f"one pass over {r.entries} entries in {r.seconds:.2f}s "
            f"({r.entries_per_second:,.0f} entries/s), switched in atomically"
            for r in reports[:1]
        ],
    )
    missing = sum(r.unresolved_metadata for r in reports)
    if missing:
        raise CheckFailed(f"{missing} metadata digests had no object; those rows have {{}}")


@app.command("check")
def check(name: NameArg = None, as_json: JsonFlag = False) -> None:
    """Fold the ledger in memory and compare every row with the live tables (exit 1 on a
    difference)."""
    with open_kernel() as kernel:
        found = kernel.projections.compare(name)
    emit(
        {"projections": [c.as_dict() for c in found]},
        as_json=as_json,
        human=[
            line
            for c in found
            for line in [
                f"{c.name}: {'ok' if c.ok else 'DIFFERS'} ({_rows(c.rows)})",
                *(
                    f"  {d.table} {list(d.key)}: live {d.live} rebuilt {d.rebuilt}"
                    for d in c.differences[:20]
                ),
            ]
        ],
    )
    if not all(c.ok for c in found):
        raise CheckFailed("a projection differs from the ledger")


def _rows(counts: dict[str, int]) -> str:
    return ", ".join(f"{table} {n}" for table, n in counts.items())


def backup_command(
    out: Annotated[Path, typer.Option("--out", help="An absent or empty directory.")],
    no_signing_key: Annotated[
        bool,
        typer.Option("--no-signing-key", help="Leave the ledger signing key out of the backup."),
    ] = False,
    as_json: JsonFlag = False,
) -> None:
    """Back up the books: the ledger, its signed heads, metadata and (unless told not to)
    the ledger signing key. Never the identity KEK."""
    from paygod.banking.backup import backup
    from paygod.ledger.signing import KEY_FILE

    with open_kernel() as kernel:
        key = kernel.settings.signing_key or kernel.settings.home / KEY_FILE
        manifest = backup(
            kernel.ledger,
            kernel.db,
            out,
            signing_key=None if no_signing_key else key,
            payees=kernel.payments.payees,
        )
    key_note = "included" if manifest["signing_key_included"] else "left out"
    emit(
        manifest,
        as_json=as_json,
        human=f"backup of {manifest['tree_size']} entries (root {manifest['root_hash'][:16]}…) "
        f"written to {out}; signing key {key_note}",
    )


def restore_command(
    source: Annotated[Path, typer.Argument(help="A directory `paygod backup` wrote.")],
    tree_size: Annotated[
        int | None,
        typer.Option("--tree-size", min=1, help="Restore only the first N entries."),
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Restore a backup into an empty home or database: verify, replay, rebuild."""
    from paygod.banking.restore import restore
    from paygod.bootstrap import build_kernel
    from paygod.kernel.settings import load_settings

    report = restore(load_settings(), source, tree_size, open_kernel=build_kernel)
    audit_ok = report["accounts_audit"]["ok"]
    emit(
        report,
        as_json=as_json,
        human=f"restored {report['entries_imported']} entries (root {report['root_hash'][:16]}…), "
        f"{len(report['projections'])} projections rebuilt; accounts audit "
        f"{'ok' if audit_ok else 'MISMATCH'}",
    )
    if not audit_ok:
        raise CheckFailed("the restored accounts do not match the ledger")


def register(main: typer.Typer) -> None:
    main.add_typer(app)
    main.command("backup")(backup_command)
    main.command("restore")(restore_command)
