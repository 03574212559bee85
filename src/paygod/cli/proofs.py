"""`paygod accounts close-period|prove` and `paygod verify-balance`: balance proofs.

`verify-balance` runs the standalone `paygod/ledger/balance_verifier.py` (no kernel, no
database): what an account holder runs on a proof the server gave them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import orjson
import typer

from paygod.cli.accounting import accounts_app
from paygod.cli.common import JsonFlag, TenantOption, emit, instant, tenant_kernel
from paygod.cli.output import console
from paygod.kernel.errors import CheckFailed, FieldError, InvalidInput


@accounts_app.command("close-period")
def accounts_close_period(
    period: Annotated[str, typer.Option(help="Period label, e.g. 2026-03 or eod-2026-03-31.")],
    until: Annotated[
        str | None, typer.Option(help="End of the period in valid time (default now).")
    ] = None,
    tenant: TenantOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Seal every account's statement for a period (a Merkle sum tree root in the ledger)."""
    end = instant(until, "--until")
    with tenant_kernel(tenant) as (kernel, tenant_id):
        sealed, created = kernel.balance_proofs.close_period(tenant_id, period, end)
    verb = "closed" if created else "already closed"
    emit(
        {**sealed.as_dict(), "created": created},
        as_json=as_json,
        human=[
            f"period {sealed.period} {verb}: {sealed.accounts} accounts, root {sealed.root_hash}",
            *(
                f"  {currency}: debits {debits} = credits {credits}"
                for currency, (debits, credits) in sealed.sums.items()
            ),
        ],
    )


@accounts_app.command("prove")
def accounts_prove(
    account_id: str,
    period: Annotated[str, typer.Option(help="A closed period.")],
    out: Annotated[Path, typer.Option(help="Write the proof document here.")],
    tenant: TenantOption = None,
) -> None:
    """Write ACCOUNT's statement proof for a closed period (check it with verify-balance)."""
    with tenant_kernel(tenant) as (kernel, tenant_id):
        doc = kernel.balance_proofs.prove(tenant_id, account_id, period)
        pem = kernel.ledger.public_key_pem()
    out.write_bytes(orjson.dumps(doc, option=orjson.OPT_INDENT_2) + b"\n")
    key = out.with_suffix(".pem")
    key.write_bytes(pem)
    console.print(f"wrote {out} (and the ledger's public key to {key})")


def verify_balance(
    file: Annotated[Path, typer.Argument(help="A proof from `accounts prove` or the API.")],
    key: Annotated[
        Path | None, typer.Option(help="The ledger's public key (PEM) to check the head.")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Check a balance proof offline: inclusion, sums, balance to zero, sealed, signed."""
    from paygod.ledger import balance_verifier, verifier

    try:
        doc = verifier.load_document(file.read_bytes())
        pem = key.read_bytes() if key else None
        reason = balance_verifier.check_balance_proof(doc, pem)
    except (balance_verifier.Malformed, verifier.Malformed, ValueError) as exc:
        raise InvalidInput(
            f"{file} is not a balance proof: {exc}", errors=[FieldError("", str(exc))]
        ) from None
    except OSError as exc:
        raise InvalidInput(
            f"cannot read {exc.filename}", errors=[FieldError("", str(exc))]
        ) from None
    result = {"valid": reason is None, "reason": reason, "signature_checked": key is not None}
    emit(result, as_json=as_json, human="valid" if reason is None else f"INVALID: {reason}")
    if reason is not None:
        raise CheckFailed(reason)
