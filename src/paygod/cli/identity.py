"""`paygod init`, `paygod users|agents|keys ...`, `paygod audit access --since`.

The CLI runs on the host that owns PAYGOD_HOME / the database, so it acts with the
authority of whoever can read that store (like a database administrator); remote
management goes through /v1/identity with credentials.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Annotated, Any

import typer

from paygod.cli.common import JsonFlag, TenantOption, emit, open_kernel
from paygod.cli.output import console, err_console, styled

if TYPE_CHECKING:
    from paygod.identity.service import IdentityService

RoleOption = Annotated[list[str] | None, typer.Option("--role", help="A role; repeat it.")]

users_app = typer.Typer(name="users", help="Human principals.", no_args_is_help=True)
agents_app = typer.Typer(name="agents", help="Agents and service accounts.", no_args_is_help=True)
keys_app = typer.Typer(
    name="keys", help="API keys: issue, list, rotate, revoke.", no_args_is_help=True
)
audit_app = typer.Typer(name="audit", help="Audit trails.", no_args_is_help=True)


@contextmanager
def _identity() -> Iterator[tuple[IdentityService, str]]:
    with open_kernel() as kernel:
        yield kernel.identity, kernel.settings.tenant


def _print_key(data: dict[str, Any]) -> None:
    """The key, then its secret alone on its own stdout line (the heading goes to stderr)."""
    console.print(f"key {data['key_id']} for principal {data['principal_id']}")
    err_console.print(styled(("API key (shown once, store it now):", "bold")))
    console.print(data["api_key"], soft_wrap=True, highlight=False)


def init(
    tenant: TenantOption = None,
    admin: Annotated[str, typer.Option("--admin", help="Name of the first admin.")] = "admin",
    force: Annotated[
        bool, typer.Option("--force", help="Add an admin even if the tenant has one.")
    ] = False,
    as_json: JsonFlag = False,
) -> None:
    """Create the tenant and its first admin; print a one-time API key and TOTP enrolment
    token."""
    with _identity() as (identity, default_tenant):
        principal, issued = identity.initialize(tenant or default_tenant, admin, force=force)
        token, expires = identity.totp.issue_enrolment(principal, issued_by=None)
        data = {
            "principal": principal.as_dict(),
            **issued.as_dict(),
            "enrolment_token": token,
            "enrolment_expires_at": _instant(expires),
        }

    def human(_: object) -> None:
        console.print(
            f"tenant {principal.tenant_id}: admin {principal.name} ({principal.principal_id})"
        )
        _print_key(issued.as_dict())
        _print_enrolment(token, expires)

    emit(data, as_json=as_json, human=human)


def _instant(value: datetime) -> str:
    from paygod.kernel.clock import isoformat

    return isoformat(value)


def _print_enrolment(token: str, expires: datetime) -> None:
    err_console.print(styled(("TOTP enrolment token (one use, store it now):", "bold")))
    console.print(token, soft_wrap=True, highlight=False)
    err_console.print(
        f"enrol before {_instant(expires)}: POST /v1/identity/me/totp"
        ' {"enrolment_token": ...}, then /v1/identity/me/totp/confirm with a first code'
    )


def _create(kind: str, name: str, tenant: str | None, roles: list[str], as_json: bool) -> None:
    from paygod.identity.model import PrincipalKind
    from paygod.identity.service import parse_roles

    with _identity() as (identity, default_tenant):
        created = identity.create_principal(
            tenant or default_tenant, name, PrincipalKind(kind), parse_roles(roles)
        )
    emit(
        created.as_dict(),
        as_json=as_json,
        human=f"{created.kind.value} {created.name} ({created.principal_id})",
    )


def _list(kind: list[str], tenant: str | None, as_json: bool) -> None:
    from paygod.identity.model import PrincipalKind

    with _identity() as (identity, _):
        found = [
            p
            for p in identity.list_principals(tenant)
            if p.kind in {PrincipalKind(k) for k in kind}
        ]
    emit(
        {"principals": [p.as_dict() for p in found]},
        as_json=as_json,
        human=[
            f"{p.principal_id}  {p.tenant_id}  {p.name}  "
            f"{','.join(sorted(r.value for r in p.roles)) or '-'}"
            + (" (disabled)" if p.disabled else "")
            for p in found
        ],
    )


@users_app.command("create")
def users_create(
    name: str,
    tenant: TenantOption = None,
    role: RoleOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Create a human principal."""
    _create("human", name, tenant, role or [], as_json)


@users_app.command("list")
def users_list(tenant: TenantOption = None, as_json: JsonFlag = False) -> None:
    """List human principals."""
    _list(["human"], tenant, as_json)


@agents_app.command("create")
def agents_create(
    name: str,
    tenant: TenantOption = None,
    role: RoleOption = None,
    service: Annotated[bool, typer.Option("--service", help="A service account.")] = False,
    as_json: JsonFlag = False,
) -> None:
    """Create an agent (default role: agent) or a service account."""
    _create("service" if service else "agent", name, tenant, role or ["agent"], as_json)


@agents_app.command("list")
def agents_list(tenant: TenantOption = None, as_json: JsonFlag = False) -> None:
    """List agents and service accounts."""
    _list(["agent", "service"], tenant, as_json)


def _roles(principal_id: str, role: list[str], as_json: bool) -> None:
    from paygod.identity.service import parse_roles

    with _identity() as (identity, _):
        updated = identity.set_roles(principal_id, parse_roles(role))
    emit(
        updated.as_dict(),
        as_json=as_json,
        human=f"{updated.name}: {', '.join(sorted(r.value for r in updated.roles)) or '-'}",
    )


@users_app.command("roles")
def users_roles(principal_id: str, role: RoleOption = None, as_json: JsonFlag = False) -> None:
    """Replace a principal's roles."""
    _roles(principal_id, role or [], as_json)


@users_app.command("disable")
def users_disable(principal_id: str, as_json: JsonFlag = False) -> None:
    """Disable a principal: its keys and tokens stop working at once."""
    with _identity() as (identity, _):
        updated = identity.set_disabled(principal_id, True)
    emit(updated.as_dict(), as_json=as_json, human=f"{updated.name} disabled")


@users_app.command("totp-enrolment")
def users_totp_enrolment(principal_id: str, as_json: JsonFlag = False) -> None:
    """Reset a principal's TOTP and print a one-time enrolment token (break-glass, host)."""
    with _identity() as (identity, _):
        target = identity.principal(principal_id)
        token, expires = identity.totp.issue_enrolment(target, issued_by=None)
        identity.audit.record(
            "audit.totp_reset",
            tenant_id=target.tenant_id,
            principal_id=None,
            action="totp:reset",
            target=f"principal:{target.principal_id}",
            reason="from the host (paygod users totp-enrolment)",
        )
    emit(
        {"principal_id": principal_id, "enrolment_token": token, "expires_at": _instant(expires)},
        as_json=as_json,
        human=lambda _: _print_enrolment(token, expires),
    )


@keys_app.command("create")
def keys_create(
    principal_id: str,
    scope: Annotated[list[str] | None, typer.Option("--scope", help="e.g. ledger:read")] = None,
    expires_in_days: Annotated[int | None, typer.Option(min=1, max=3650)] = None,
    as_json: JsonFlag = False,
) -> None:
    """Issue an API key for a principal (shown once)."""
    with _identity() as (identity, _):
        expires = (
            identity.clock.now() + timedelta(days=expires_in_days) if expires_in_days else None
        )
        issued = identity.issue_key(principal_id, scopes=scope or [], expires_at=expires)
    emit(issued.as_dict(), as_json=as_json, human=_print_key)


@keys_app.command("list")
def keys_list(
    principal_id: Annotated[str | None, typer.Option("--principal")] = None,
    tenant: TenantOption = None,
    as_json: JsonFlag = False,
) -> None:
    """List keys (prefixes and metadata, never secrets)."""
    with _identity() as (identity, _):
        found = identity.list_keys(principal_id=principal_id, tenant_id=tenant)
    now = datetime.now(UTC)
    emit(
        {"keys": [k.as_dict() for k in found]},
        as_json=as_json,
        human=[
            f"{k.key_id}  pg_{k.prefix}_…  {k.principal_id}  "
            + ("active" if k.active(now) else "inactive")
            for k in found
        ],
    )


@keys_app.command("rotate")
def keys_rotate(
    key_id: str,
    grace_seconds: Annotated[int, typer.Option(min=0, max=86_400)] = 0,
    as_json: JsonFlag = False,
) -> None:
    """Replace a key with a new one (same scopes); the old one stops working."""
    with _identity() as (identity, _):
        issued = identity.rotate_key(key_id, grace_seconds=grace_seconds)
    emit(issued.as_dict(), as_json=as_json, human=_print_key)


@keys_app.command("revoke")
def keys_revoke(key_id: str, as_json: JsonFlag = False) -> None:
    """Revoke a key, effective immediately."""
    with _identity() as (identity, _):
        revoked = identity.revoke_key(key_id)
    emit(revoked.as_dict(), as_json=as_json, human=f"key {revoked.key_id} revoked")


@audit_app.command("access")
def audit_access(
    since: Annotated[str, typer.Option("--since", help="ISO 8601 instant, or e.g. 24h, 7d.")],
    tenant: TenantOption = None,
    limit: Annotated[int, typer.Option(min=1, max=100_000)] = 1000,
    as_json: JsonFlag = False,
) -> None:
    """Who read ledger entries, evidence or reports (and failed logins), since when."""
    instant = _since(since)
    with _identity() as (identity, _):
        found = identity.audit.since(instant, tenant_id=tenant, limit=limit)
    records = [r.as_dict() for r in found]
    emit(
        {"records": records},
        as_json=as_json,
        human=[
            f"{d['occurred_at']}  {r.event_type}  {r.tenant_id}  {r.principal_id or '-'}  "
            f"{r.action} {r.target}  {r.outcome}" + (f"  why: {r.reason}" if r.reason else "")
            for r, d in zip(found, records, strict=True)
        ],
    )


def _since(text: str) -> datetime:
    from paygod.kernel.clock import parse_instant
    from paygod.kernel.errors import FieldError, InvalidInput

    units = {"m": 60, "h": 3600, "d": 86_400}
    if text[:-1].isdigit() and text[-1:] in units:
        return datetime.now(UTC) - timedelta(seconds=int(text[:-1]) * units[text[-1]])
    try:
        return parse_instant(text)
    except ValueError:
        raise InvalidInput(
            f"--since {text!r} is not an instant", errors=[FieldError("--since", "e.g. 24h")]
        ) from None


def register(app: typer.Typer) -> None:
    app.command("init")(init)
    app.add_typer(users_app)
    app.add_typer(agents_app)
    app.add_typer(keys_app)
    app.add_typer(audit_app)
