"""Builds the action service on a kernel whose ledger, decisions, accounting and executor
are wired, and registers its `action.perform` handler with the executor."""

from __future__ import annotations

from typing import Any

from paygod.actions.model import PERFORM_EVENT
from paygod.actions.ports import DestinationStore
from paygod.actions.registry import ActionRegistry
from paygod.actions.service import ActionService
from paygod.actions.stores.destinations_memory import MemoryDestinationStore
from paygod.actions.stores.destinations_sql import SqlDestinationStore
from paygod.actions.transfer import TransferAction
from paygod.actions.webhook import WebhookAction


def destination_store_for(db: Any) -> DestinationStore:
    return SqlDestinationStore(db) if db is not None else MemoryDestinationStore()


def wire_actions(kernel: Any, *, destinations: DestinationStore | None = None) -> ActionService:
    """Sets kernel.actions and hands the planner to the decision service."""
    store = destinations or destination_store_for(getattr(kernel, "db", None))
    registry = ActionRegistry([WebhookAction(store), TransferAction(kernel.accounting)])
    registry.load_entry_points(kernel)
    worker = kernel.executor
    payments = getattr(kernel, "payments", None)
    service = ActionService(
        kernel.ledger,
        kernel.clock,
        registry,
        store,
        breakers=getattr(payments, "breakers", None),
        outbox=worker.store,
        max_attempts=worker.backoff.max_attempts,
    )
    service.decisions = kernel.decisions
    kernel.decisions.actions = service
    worker.register(PERFORM_EVENT, service.perform)
    kernel.actions = service
    return service
