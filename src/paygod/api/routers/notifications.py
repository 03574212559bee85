"""Notifications over HTTP: subscriptions (webhook, e-mail, in-app), deliveries, the inbox."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Query, Request, Response
from pydantic import BaseModel, Field

from paygod.api.deps import get_kernel
from paygod.api.models import NoNul, StrictModel
from paygod.api.receipts import sealing
from paygod.api.routers.accounting import Tenant
from paygod.api.routers.admin import principal_id
from paygod.api.routing import router as strict_router
from paygod.bootstrap import Kernel
from paygod.notifications.service import NotificationService

router = strict_router(prefix="/notifications", tags=["notifications"])


def notifications_of(kernel: Kernel = Depends(get_kernel)) -> NotificationService:
    return kernel.notifications


Notifications = Annotated[NotificationService, Depends(notifications_of)]


class SubscriptionIn(StrictModel):
    channel: str = Field(description="webhook, email or inapp")
    target: Annotated[str, Field(min_length=1, max_length=2048), NoNul] = Field(
        description="https URL (webhook), address (email) or principal id (inapp)"
    )
    event_types: list[str] = Field(description="e.g. payment.settled, credit.*, *")
    allow_private: bool = False


class SubscriptionOut(BaseModel):
    subscription_id: str
    tenant_id: str
    channel: str
    target: str
    event_types: list[str]
    allow_private: bool
    created_at: str
    created_by: str
    secret: str | None = Field(
        default=None, description="The webhook signing secret: returned once, on creation"
    )


class SubscriptionsOut(BaseModel):
    subscriptions: list[SubscriptionOut]


class DeliveryOut(BaseModel):
    delivery_id: str
    tenant_id: str
    subscription_id: str
    event_id: str
    event_type: str
    channel: str
    target: str
    status: str
    attempts: int
    last_error: str | None
    digest: str | None
    created_at: str
    updated_at: str


class DeliveriesOut(BaseModel):
    deliveries: list[DeliveryOut]


class InboxMessageOut(BaseModel):
    message_id: str
    event_type: str
    subject: str
    body: str
    created_at: str
    read_at: str | None


class InboxOut(BaseModel):
    messages: list[InboxMessageOut]


@router.post("/subscriptions", status_code=201, summary="Subscribe a channel to event types")
@sealing
def subscribe(
    body: SubscriptionIn, request: Request, tenant: Tenant, service: Notifications
) -> dict[str, Any]:
    subscription, secret = service.subscribe(
        tenant,
        channel=body.channel,
        target=body.target,
        event_types=body.event_types,
        allow_private=body.allow_private,
        actor=principal_id(request),
    )
    return {**subscription.as_dict(), "secret": secret}


@router.get("/subscriptions", response_model=SubscriptionsOut, summary="The tenant's subscriptions")
def list_subscriptions(tenant: Tenant, service: Notifications) -> dict[str, Any]:
    return {"subscriptions": [s.as_dict() for s in service.subscriptions(tenant)]}


@router.delete("/subscriptions/{subscription_id}", summary="Unsubscribe")
@sealing
def unsubscribe(
    subscription_id: str, request: Request, tenant: Tenant, service: Notifications
) -> dict[str, Any]:
    gone = service.unsubscribe(tenant, subscription_id, actor=principal_id(request))
    return gone.as_dict()


@router.post(
    "/subscriptions/{subscription_id}/test", status_code=201, summary="Queue a test notification"
)
@sealing
def test_subscription(
    subscription_id: str, request: Request, tenant: Tenant, service: Notifications
) -> dict[str, Any]:
    return service.test(tenant, subscription_id, actor=principal_id(request)).as_dict()


@router.get("/deliveries", response_model=DeliveriesOut, summary="Delivery attempts, newest first")
def deliveries(
    tenant: Tenant,
    service: Notifications,
    status: Annotated[str | None, Query(max_length=20)] = None,
) -> dict[str, Any]:
    return {"deliveries": [d.as_dict() for d in service.deliveries(tenant, status)]}


@router.get("/inbox", response_model=InboxOut, summary="The caller's in-app messages")
def inbox(
    request: Request,
    tenant: Tenant,
    service: Notifications,
    unread: bool = False,
) -> dict[str, Any]:
    found = service.inbox(tenant, principal_id(request), unread=unread)
    return {"messages": [m.as_dict() for m in found]}


@router.post("/inbox/{message_id}/read", status_code=204, summary="Mark a message read")
def mark_read(
    message_id: str, request: Request, tenant: Tenant, service: Notifications
) -> Response:
    service.mark_read(tenant, principal_id(request), message_id)
    return Response(status_code=204)
