"""`paygod notifications ...`: subscribe channels to event types, list, test, deliveries."""

from __future__ import annotations

import getpass
from typing import Annotated

import typer

from paygod.cli.common import JsonFlag, TenantOption, emit, tenant_kernel
from paygod.cli.output import row_lines

app = typer.Typer(
    name="notifications",
    help="Notifications: webhooks, e-mail and in-app messages for events.",
    no_args_is_help=True,
)


@app.command("subscribe")
def subscribe(
    channel: Annotated[str, typer.Option(help="webhook, email or inapp.")],
    target: Annotated[str, typer.Option(help="https URL, e-mail address or principal id.")],
    event: Annotated[list[str], typer.Option(help="Event type or prefix.* (repeatable).")],
    allow_private: Annotated[
        bool, typer.Option(help="Allow a non-public webhook address.")
    ] = False,
    tenant: TenantOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Subscribe a channel; a webhook's signing secret is printed once."""
    with tenant_kernel(tenant) as (kernel, tenant_id):
        subscription, secret = kernel.notifications.subscribe(
            tenant_id,
            channel=channel,
            target=target,
            event_types=list(event),
            allow_private=allow_private,
            actor=getpass.getuser(),
        )
    data = {**subscription.as_dict(), "secret": secret}
    emit(
        data,
        as_json=as_json,
        human=[f"subscribed {subscription.subscription_id} ({channel} -> {target})"]
        + ([f"signing secret (shown once): {secret}"] if secret else []),
    )


@app.command("list")
def list_(tenant: TenantOption = None, as_json: JsonFlag = False) -> None:
    """The tenant's subscriptions."""
    with tenant_kernel(tenant) as (kernel, tenant_id):
        rows = [s.as_dict() for s in kernel.notifications.subscriptions(tenant_id)]
    emit(
        {"subscriptions": rows},
        as_json=as_json,
        human=row_lines(rows, "subscription_id", "channel", "target", "event_types"),
    )


@app.command("unsubscribe")
def unsubscribe(
    subscription_id: str, tenant: TenantOption = None, as_json: JsonFlag = False
) -> None:
    """Remove a subscription (sealed)."""
    with tenant_kernel(tenant) as (kernel, tenant_id):
        gone = kernel.notifications.unsubscribe(tenant_id, subscription_id, actor=getpass.getuser())
    emit(gone.as_dict(), as_json=as_json, human=f"unsubscribed {subscription_id}")


@app.command("test")
def test(subscription_id: str, tenant: TenantOption = None, as_json: JsonFlag = False) -> None:
    """Queue a notification.test event to one subscription (the worker delivers it)."""
    with tenant_kernel(tenant) as (kernel, tenant_id):
        delivery = kernel.notifications.test(tenant_id, subscription_id, actor=getpass.getuser())
    emit(delivery.as_dict(), as_json=as_json, human=f"queued {delivery.delivery_id}")


@app.command("deliveries")
def deliveries(
    status: Annotated[str | None, typer.Option(help="pending, sent or dead.")] = None,
    tenant: TenantOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Delivery attempts, newest first."""
    with tenant_kernel(tenant) as (kernel, tenant_id):
        rows = [d.as_dict() for d in kernel.notifications.deliveries(tenant_id, status)]
    emit(
        {"deliveries": rows},
        as_json=as_json,
        human=row_lines(
            rows, "delivery_id", "event_type", "channel", "status", "attempts", "last_error"
        ),
    )
