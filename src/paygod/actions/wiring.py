"""Builds the action service from the ledger, decisions, accounting and executor it works
with, and registers its `action.perform` handler with the executor's worker."""

from __future__ import annotations

from typing import TYPE_CHECKING

from paygod.actions.model import PERFORM_EVENT
from paygod.actions.ports import DestinationStore
from paygod.actions.registry import ActionRegistry
from paygod.actions.service import ActionService
from paygod.actions.stores.destinations_memory import MemoryDestinationStore
from paygod.actions.stores.destinations_sql import SqlDestinationStore
from paygod.actions.transfer import TransferAction
from paygod.actions.webhook import WebhookAction

if TYPE_CHECKING:
    from paygod.accounting import AccountingService
    from paygod.decisions.service import DecisionService
    from paygod.executor import BreakerBoard, Worker
    from paygod.kernel.clock import Clock
    from paygod.kernel.database import Database
    from paygod.ledger import LedgerService


def destination_store_for(db: Database | None) -> DestinationStore:
    return SqlDestinationStore(db) if db is not None else MemoryDestinationStore()


def build_actions(
    db: Database | None,
    ledger: LedgerService,
    clock: Clock,
    *,
    accounting: AccountingService,
    decisions: DecisionService,
    worker: Worker,
    breakers: BreakerBoard | None,
    destinations: DestinationStore | None = None,
) -> ActionService:
    """The built-in action types only: entry-point plug-ins are called with the finished
    kernel, so the composition root loads them once it exists (`ActionRegistry`)."""
    store = destinations or destination_store_for(db)
    registry = ActionRegistry([WebhookAction(store), TransferAction(accounting)])
    service = ActionService(
        ledger,
        clock,
        registry,
        store,
        breakers=breakers,
        outbox=worker.store,
        max_attempts=worker.backoff.max_attempts,
    )
    # The two know each other: a decision plans its actions, an action run reads its decision.
    service.decisions = decisions
    decisions.actions = service
    worker.register(PERFORM_EVENT, service.perform)
    return service
