"""The executor over HTTP: the dead-letter queue (list, retry, discard) and the overview
of the kernel's moving parts (decisions per minute, payments by state, outbox, relay,
panic switch, ledger) that the console's first page polls."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Annotated, Any

from fastapi import Depends, Query, Request

from paygod.api.deps import get_kernel
from paygod.api.models import Digits
from paygod.api.receipts import sealing
from paygod.api.routers.admin import panic_tenant, panic_view, principal_id
from paygod.api.routing import router as strict_router
from paygod.api.schemas import executor as bodies
from paygod.api.schemas import success
from paygod.api.security import tenant_filter
from paygod.bootstrap import Kernel
from paygod.executor.model import OutboxMessage
from paygod.kernel.clock import isoformat
from paygod.kernel.errors import NotFound
from paygod.ledger import EntryDraft

router = strict_router(tags=["executor"])

OVERVIEW_MINUTES = 30


def _dead_letter(request: Request, kernel: Kernel, event_id: str) -> OutboxMessage:
    """A dead letter of the caller's tenant; anything else reads as missing."""
    message = kernel.executor.store.get(event_id)
    tenant = tenant_filter(request)
    if message is None or message.status != "dead" or tenant not in (None, message.tenant_id):
        raise NotFound(f"no dead letter {event_id}")
    return message


def _settle(
    request: Request, kernel: Kernel, event_id: str, action: str, settle: Callable[[], bool]
) -> None:
    """An operator's action on a dead letter of the caller's tenant, sealed; `settle` says
    whether the store still held it (another operator may have settled it first)."""
    message = _dead_letter(request, kernel, event_id)
    if not settle():
        raise NotFound(f"no dead letter {event_id}")
    _seal(request, kernel, message, action)


def _seal(request: Request, kernel: Kernel, message: OutboxMessage, action: str) -> None:
    """Operator actions on the dead-letter queue are evidence: one ledger entry each."""
    kernel.ledger.append(
        EntryDraft(
            kind="executor.dlq",
            subject=f"outbox:{message.event_id}",
            payload={
                "action": action,
                "event_id": message.event_id,
                "actor": principal_id(request),
            },
            tenant_id=message.tenant_id,
        )
    )


@router.get(
    "/executor/dead",
    summary="Dead letters: messages that failed every attempt",
    responses=success(bodies.DeadLetters),
)
def dead_letters(
    request: Request,
    kernel: Annotated[Kernel, Depends(get_kernel)],
    limit: Annotated[int, Digits, Query(ge=1, le=1000)] = 100,
) -> dict[str, Any]:
    tenant = tenant_filter(request)
    # The store lists across tenants; over-read so a tenant's page is not emptied by others.
    found = kernel.executor.store.list("dead", limit=limit if tenant is None else limit * 10)
    mine = [m for m in found if tenant in (None, m.tenant_id)][:limit]
    return {"dead": [m.as_dict() for m in mine]}


@router.post("/executor/dead/{event_id}/retry", summary="Requeue a dead letter (fresh attempts)")
@sealing
def retry_dead_letter(
    request: Request, kernel: Annotated[Kernel, Depends(get_kernel)], event_id: str
) -> dict[str, Any]:
    def requeue() -> bool:
        return kernel.executor.store.requeue(event_id, now=kernel.clock.now())

    _settle(request, kernel, event_id, "retry", requeue)
    return {"event_id": event_id, "requeued": True}


@router.post("/executor/dead/{event_id}/discard", summary="Give up on a dead letter")
@sealing
def discard_dead_letter(
    request: Request, kernel: Annotated[Kernel, Depends(get_kernel)], event_id: str
) -> dict[str, Any]:
    _settle(request, kernel, event_id, "discard", lambda: kernel.executor.store.discard(event_id))
    return {"event_id": event_id, "discarded": True}


def _relay_lag(kernel: Kernel) -> int | None:
    from paygod.events.model import RelayCursor
    from paygod.events.wiring import cursor_store_for

    try:
        store = cursor_store_for(kernel.db, kernel.ledger.outbox)
        cursor = store.get("default") or RelayCursor(name="default")
        return int(store.lag(cursor.position))
    except Exception:  # no relay table in this set-up: the page says "n/a"
        return None


@router.get(
    "/overview",
    summary="Decisions per minute, payments, outbox, relay, panic, ledger",
    responses=success(bodies.Overview),
)
def overview(request: Request, kernel: Annotated[Kernel, Depends(get_kernel)]) -> dict[str, Any]:
    tenant = tenant_filter(request)
    now = kernel.clock.now()
    since = isoformat(now - timedelta(minutes=OVERVIEW_MINUTES))
    minutes = kernel.decisions.index.per_minute(tenant, since)
    platform = tenant is None
    head = kernel.ledger.latest_signed_tree_head() if platform else None
    return {
        "now": isoformat(now),
        "window_minutes": OVERVIEW_MINUTES,
        "decisions_per_minute": [
            {"minute": m, "verdict": v, "count": c} for m, v, c in sorted(minutes)
        ],
        "payments_by_state": kernel.payments.counts(tenant),
        # The outbox, the relay and the tree are shared by every tenant: their sizes would
        # show other tenants' activity (docs/security.md), so a tenant gets none of them.
        "outbox": kernel.executor.store.counts() if platform else None,
        "relay_lag": _relay_lag(kernel) if platform else None,
        "panic": panic_view(kernel, panic_tenant(request)),
        "ledger": {
            "size": kernel.ledger.size if platform else None,
            "last_signed_head": head.as_dict() if head else None,
        },
    }
