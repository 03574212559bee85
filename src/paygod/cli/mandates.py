"""`paygod mandates keygen|keys|grant|import|list|show|revoke` on the local kernel.

A human grants with their own key: `keygen` writes an Ed25519 private key (PEM, 0600) and
prints its public JWK; `keys add` registers the JWK for a principal; `grant --sign-with`
signs the grant locally (the private key never reaches Paygod) and submits it.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Annotated, Any

import typer

from paygod.cli.common import AsOption, JsonFlag, actor, emit, open_kernel

app = typer.Typer(
    name="mandates", help="Mandates: what a human lets an agent spend.", no_args_is_help=True
)
keys_app = typer.Typer(name="keys", help="Principals' signing keys.", no_args_is_help=True)
app.add_typer(keys_app)

Repeated = Annotated[list[str] | None, typer.Option()]


def _bad(pointer: str, message: str) -> Exception:
    from paygod.kernel.errors import FieldError, InvalidInput

    return InvalidInput(f"invalid {pointer.strip('/')}", errors=[FieldError(pointer, message)])


def _mandate_line(view: dict[str, Any]) -> str:
    c, left = view["constraints"], view["allowance"]
    return (
        f"{view['mandate_id']}  {view['status']}  {view['form']}/{view['mode']}  "
        f"{view['grantor']} -> {view['grantee']}  {c['currency']} budget {c['budget_minor']} "
        f"remaining {left.get('remaining_minor')}"
    )


@app.command("keygen")
def keygen(
    out: Annotated[Path, typer.Option(help="Where to write the private key (PEM, 0600).")],
    as_json: JsonFlag = False,
) -> None:
    """A new Ed25519 key pair: the private half to a file, the public JWK printed."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519

    from paygod.mandates.jose import jwk_of

    if out.exists():
        raise _bad("/out", f"{out} exists; refusing to overwrite a key")
    private = ed25519.Ed25519PrivateKey.generate()
    pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)
    jwk = jwk_of(private.public_key())
    emit(jwk, as_json=as_json, human=json.dumps(jwk))


@keys_app.command("add")
def keys_add(
    principal: Annotated[str, typer.Argument(help="The principal the key belongs to.")],
    key_id: Annotated[str, typer.Option("--key-id")],
    jwk: Annotated[Path, typer.Option(help="A file holding the public JWK (JSON).")],
    as_: AsOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Register a principal's public key (sealed)."""
    try:
        doc = json.loads(jwk.read_text())
    except (OSError, ValueError) as exc:
        raise _bad("/jwk", f"cannot read a JSON JWK from {jwk}: {exc}") from None
    with open_kernel() as kernel:
        key = kernel.mandates.service.register_key(
            kernel.settings.tenant,
            principal_id=principal,
            key_id=key_id,
            jwk=doc,
            actor=actor(as_),
        )
    emit(key.as_dict(), as_json=as_json, human=f"key {key.key_id} of {principal}")


def _constraints(opts: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"currency": opts["currency"], "budget": opts["budget"]}
    names = ("max_per_payment", "period", "per_period", "not_before", "not_after", "max_payments")
    out.update({k: opts[k] for k in names if opts.get(k) is not None})
    for name, flag in (("merchants", "merchant"), ("categories", "category"), ("rails", "rail")):
        if opts.get(flag):
            out[name] = list(opts[flag])
    if opts.get("single_use"):
        out["single_use"] = True
    return out


def _sign(
    grantor: str, grantee: str, tenant: str, key_id: str, pem: Path, c: dict[str, Any]
) -> str:
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    from paygod.mandates.jose import b64url, sign_jws
    from paygod.mandates.native import TYP

    try:
        private = load_pem_private_key(pem.read_bytes(), password=None)
    except (OSError, ValueError) as exc:
        raise _bad("/sign_with", f"cannot read a private key from {pem}: {exc}") from None
    payload = {
        "tenant_id": tenant,
        "grantor": grantor,
        "grantee": grantee,
        "kind": "payment",
        "iat": int(time.time()),
        "jti": b64url(os.urandom(12)),
        "constraints": c,
    }
    return sign_jws(payload, private, {"typ": TYP, "kid": key_id})


@app.command("grant")
def grant(
    grantee: Annotated[str, typer.Option(help="The agent principal allowed to spend.")],
    grantor: Annotated[str | None, typer.Option(help="The human granting (signs).")] = None,
    key_id: Annotated[str | None, typer.Option("--key-id", help="The grantor's key id.")] = None,
    sign_with: Annotated[Path | None, typer.Option(help="The grantor's private key (PEM).")] = None,
    signed: Annotated[
        Path | None, typer.Option("--signed", help="A grant JWS already signed.")
    ] = None,
    currency: Annotated[str, typer.Option()] = "EUR",
    budget: Annotated[str | None, typer.Option(help='Total, in major units: "200.00".')] = None,
    max_per_payment: Annotated[str | None, typer.Option()] = None,
    period: Annotated[str | None, typer.Option(help="day, week or month")] = None,
    per_period: Annotated[str | None, typer.Option()] = None,
    merchant: Repeated = None,
    category: Repeated = None,
    rail: Repeated = None,
    not_before: Annotated[str | None, typer.Option()] = None,
    not_after: Annotated[str | None, typer.Option()] = None,
    max_payments: Annotated[int | None, typer.Option()] = None,
    single_use: Annotated[bool, typer.Option("--single-use")] = False,
    as_json: JsonFlag = False,
) -> None:
    """Grant a mandate: signed here with --sign-with, or a --signed JWS as is."""
    with open_kernel() as kernel:
        if signed is not None:
            token = signed.read_text().strip()
        else:
            if not (grantor and key_id and sign_with and budget):
                raise _bad("/grantor", "--grantor, --key-id, --sign-with and --budget go together")
            opts = dict(locals())
            token = _sign(
                grantor, grantee, kernel.settings.tenant, key_id, sign_with, _constraints(opts)
            )
        mandate = kernel.mandates.service.grant(
            kernel.settings.tenant, token, actor=actor(grantor), any_grantor=True
        )
        view = kernel.mandates.service.view(mandate)
    emit(view, as_json=as_json, human=_mandate_line)


@app.command("import")
def import_ap2(
    credential: Annotated[Path, typer.Argument(help="A file holding the AP2 credential chain.")],
    audience: Annotated[str | None, typer.Option()] = None,
    nonce: Annotated[str | None, typer.Option()] = None,
    grantee: Annotated[str | None, typer.Option()] = None,
    as_: AsOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Import an AP2 v0.2 mandate (verified end to end, sealed, funded)."""
    try:
        text = credential.read_text().strip()
    except OSError as exc:
        raise _bad("/credential", f"cannot read {credential}: {exc}") from None
    with open_kernel() as kernel:
        mandate = kernel.mandates.service.import_ap2(
            kernel.settings.tenant,
            text,
            audience=audience,
            nonce=nonce,
            grantee=grantee,
            actor=actor(as_),
        )
        view = kernel.mandates.service.view(mandate)
    emit(view, as_json=as_json, human=_mandate_line)


@app.command("list")
def list_mandates(
    grantee: Annotated[str | None, typer.Option()] = None, as_json: JsonFlag = False
) -> None:
    """Mandates of the tenant, oldest first."""
    with open_kernel() as kernel:
        service = kernel.mandates.service
        views = [service.view(m) for m in service.list(kernel.settings.tenant, grantee)]
    emit({"mandates": views}, as_json=as_json, human=[_mandate_line(v) for v in views])


@app.command("show")
def show(
    mandate_id: str,
    as_of: Annotated[str | None, typer.Option("--as-of", help="An ISO 8601 instant.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """One mandate and what remains of it (as it stood at --as-of)."""
    with open_kernel() as kernel:
        service = kernel.mandates.service
        view = service.view(service.get(mandate_id, kernel.settings.tenant, as_of))
    emit(view, as_json=as_json, human=_mandate_line)


@app.command("revoke")
def revoke(
    mandate_id: str,
    reason: Annotated[str | None, typer.Option()] = None,
    as_: AsOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Revoke now (sealed); payments under it not yet sent are stopped."""
    with open_kernel() as kernel:
        mandate = kernel.mandates.service.revoke(
            mandate_id,
            tenant_id=kernel.settings.tenant,
            actor=actor(as_),
            any_mandate=True,
            reason=reason,
        )
        view = kernel.mandates.service.view(mandate)
    emit(view, as_json=as_json, human=_mandate_line)
