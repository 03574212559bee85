"""`paygod notifications ...`: subscribe channels to event types, list, test, deliveries."""

from __future__ import annotations

import getpass
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated, Any

import typer

from paygod.cli.accounting import TenantOpt
from paygod.cli.common import JsonFlag, tenant_kernel
from paygod.cli.output import console, emit_json

if TYPE_CHECKING:
    from paygod.notifications.service import NotificationService

app = typer.Typer(
    name="notifications",
    help="Notifications: webhooks, e-mail and in-app messages for events.",
    no_args_is_help=True,
)


@contextmanager
def _service(tenant: str | None) -> Iterator[tuple[NotificationService, str]]:
    with tenant_kernel(tenant) as (kernel, tenant_id):
        yield kernel.notifications, tenant_id


def _rows(key: str, rows: list[dict[str, Any]], as_json: bool, columns: tuple[str, ...]) -> None:
    if as_json:
        emit_json({key: rows})
        return
    for row in rows:
        console.print("  ".join(str(row.get(c)) for c in columns))


@app.command("subscribe")
def subscribe(
    channel: Annotated[str, typer.Option(help="webhook, email or inapp.")],
    target: Annotated[str, typer.Option(help="https URL, e-mail address or principal id.")],
    event: Annotated[list[str], typer.Option(help="Event type or prefix.* (repeatable).")],
    allow_private: Annotated[
        bool, typer.Option(help="Allow a non-public webhook address.")
    ] = False,
    tenant: TenantOpt = None,
    as_json: JsonFlag = False,
) -> None:
    """Subscribe a channel; a webhook's signing secret is printed once."""
    with _service(tenant) as (service, tenant_id):
        subscription, secret = service.subscribe(
            tenant_id,
            channel=channel,
            target=target,
            event_types=list(event),
            allow_private=allow_private,
            actor=getpass.getuser(),
        )
    data = {**subscription.as_dict(), "secret": secret}
    if as_json:
        emit_json(data)
        return
    console.print(f"subscribed {subscription.subscription_id} ({channel} -> {target})")
    if secret:
        console.print(f"signing secret (shown once): {secret}")


@app.command("list")
def list_(tenant: TenantOpt = None, as_json: JsonFlag = False) -> None:
    """The tenant's subscriptions."""
    with _service(tenant) as (service, tenant_id):
        rows = [s.as_dict() for s in service.subscriptions(tenant_id)]
    _rows("subscriptions", rows, as_json, ("subscription_id", "channel", "target", "event_types"))


@app.command("unsubscribe")
def unsubscribe(subscription_id: str, tenant: TenantOpt = None, as_json: JsonFlag = False) -> None:
    """Remove a subscription (sealed)."""
    with _service(tenant) as (service, tenant_id):
        gone = service.unsubscribe(tenant_id, subscription_id, actor=getpass.getuser())
    if as_json:
        emit_json(gone.as_dict())
    else:
        console.print(f"unsubscribed {subscription_id}")


@app.command("test")
def test(subscription_id: str, tenant: TenantOpt = None, as_json: JsonFlag = False) -> None:
    """Queue a notification.test event to one subscription (the worker delivers it)."""
    with _service(tenant) as (service, tenant_id):
        delivery = service.test(tenant_id, subscription_id, actor=getpass.getuser())
    if as_json:
        emit_json(delivery.as_dict())
    else:
        console.print(f"queued {delivery.delivery_id}")


@app.command("deliveries")
def deliveries(
    status: Annotated[str | None, typer.Option(help="pending, sent or dead.")] = None,
    tenant: TenantOpt = None,
    as_json: JsonFlag = False,
) -> None:
    """Delivery attempts, newest first."""
    with _service(tenant) as (service, tenant_id):
        rows = [d.as_dict() for d in service.deliveries(tenant_id, status)]
    _rows(
        "deliveries",
        rows,
        as_json,
        ("delivery_id", "event_type", "channel", "status", "attempts", "last_error"),
    )
