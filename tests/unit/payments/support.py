"""A payments world built by the composition root's builders on memory adapters: ledger,
accounting, outbox, panic, simulated rails."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from paygod.accounting import AccountingService
from paygod.accounting.wiring import build_accounting
from paygod.executor.backoff import Backoff
from paygod.executor.breaker import BreakerBoard
from paygod.executor.panic import PanicService
from paygod.executor.stores.outbox_memory import MemoryOutboxStore
from paygod.executor.stores.panic_memory import MemoryPanicSwitch
from paygod.executor.worker import Worker
from paygod.kernel.clock import ManualClock
from paygod.kernel.settings import Settings
from paygod.ledger import LedgerService
from paygod.ledger.stores.memory import MemoryLedgerStore
from paygod.payments.connectors.simulated import SimulatedRail
from paygod.payments.rails import RailCatalog
from paygod.payments.service import PaymentService
from paygod.payments.wiring import build_payments
from tests.support.accounts import open_funded_payer

MONDAY = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
US_BANK = {"name": "Acme Supplies", "account_number": "000123456789", "routing_number": "021000021"}
SECRET = b"whsec_unit"


@dataclass
class World:
    clock: ManualClock
    ledger: LedgerService
    accounting: AccountingService
    payments: PaymentService
    worker: Worker
    panic: PanicService
    outbox: MemoryOutboxStore
    rails: dict[str, SimulatedRail] = field(default_factory=dict)

    def body(self, amount: int = 12_500, **kw: Any) -> dict[str, Any]:
        data: dict[str, Any] = {
            "payer_account": "agent-1",
            "payee": dict(US_BANK),
            "amount": amount,
            "currency": "USD",
            "purpose": "invoice 42",
        }
        data.update(kw)
        return data

    def pay(self, key: str, amount: int = 12_500, by: str = "agent-bot", **kw: Any) -> Any:
        payment, _ = self.payments.create(
            self.body(amount, **kw), tenant_id="default", requested_by=by, idempotency_key=key
        )
        return payment

    def balance(self, account: str) -> Any:
        return self.accounting.get_account("default", account)


def world(*, failure_threshold: int = 3, max_attempts: int = 3, on_loop: bool = False) -> World:
    """Payments as the composition root wires them (`build_accounting`, `build_payments`),
    on memory stores with a manual clock, simulated rails, a memory panic switch and a
    known webhook secret. `on_loop`: the worker runs a round's dispatches on its event
    loop, as `paygod serve` does where every store is local; otherwise each in a thread."""
    clock = ManualClock(MONDAY)
    store = MemoryLedgerStore()
    ledger = LedgerService(store, clock)
    accounting, _ = build_accounting(None, clock, ledger)
    open_funded_payer(accounting, amount=100_000_000)
    catalog = RailCatalog()
    rails = {name: SimulatedRail(name) for name in catalog.names()}
    parts = build_payments(
        # Nothing is read from this home: every adapter taken from it is given here.
        Settings(home=Path("unit-world-reads-no-home"), redis_url=None, database_url=None),
        None,
        clock,
        ledger,
        accounting=accounting,
        decisions=None,
        identity=None,
        on_loop=on_loop,
        catalog=catalog,
        rails=rails,
        breakers=BreakerBoard(clock, failure_threshold=failure_threshold, cool_down=30),
        panic_switch=MemoryPanicSwitch(clock),
        backoff=Backoff(initial=1, maximum=10, jitter=0, max_attempts=max_attempts),
        worker_id="w1",
        secret=SECRET,
    )
    outbox = parts.worker.store
    assert isinstance(outbox, MemoryOutboxStore)  # the memory ledger's own outbox
    return World(
        clock, ledger, accounting, parts.payments, parts.worker, parts.panic, outbox, rails
    )
