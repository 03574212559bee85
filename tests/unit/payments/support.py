"""A payments world on memory adapters: ledger, accounting, outbox, panic, simulated rails."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from paygod.accounting import AccountingService
from paygod.accounting.stores.memory import MemoryAccountStore
from paygod.executor.backoff import Backoff
from paygod.executor.breaker import BreakerBoard
from paygod.executor.panic import PanicService
from paygod.executor.stores.outbox_memory import MemoryOutboxStore
from paygod.executor.stores.panic_memory import MemoryPanicSwitch
from paygod.executor.worker import Worker
from paygod.kernel.clock import ManualClock
from paygod.ledger import EntryDraft, LedgerService
from paygod.ledger.stores.memory import MemoryLedgerStore
from paygod.payments.connectors.simulated import SimulatedRail
from paygod.payments.decider import ThresholdDecider
from paygod.payments.holds import AccountingHolds
from paygod.payments.rail_ranking import RailRouter
from paygod.payments.rails import RailCatalog
from paygod.payments.service import PaymentService
from paygod.payments.stores.payees import MemoryPayeeVault
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
    """`on_loop`: the worker runs a round's dispatches on its event loop, as `paygod serve`
    does where every store is local; otherwise each in a thread."""
    clock = ManualClock(MONDAY)
    store = MemoryLedgerStore()
    ledger = LedgerService(store, clock)
    accounting = AccountingService(MemoryAccountStore(), ledger, clock, EntryDraft)
    open_funded_payer(accounting, amount=100_000_000)
    rails = {name: SimulatedRail(name) for name in RailCatalog().names()}
    breakers = BreakerBoard(clock, failure_threshold=failure_threshold, cool_down=30)
    payments = PaymentService(
        ledger,
        clock,
        RailRouter(RailCatalog(), breakers),
        rails,
        ThresholdDecider(ledger, clock, review_over=1_000_000, blocked_payees=frozenset({"Evil"})),
        AccountingHolds(accounting),
        MemoryPayeeVault(),
        breakers=breakers,
        webhook_secret=SECRET,
    )
    outbox = MemoryOutboxStore(store.outbox)
    switch = MemoryPanicSwitch(clock)
    panic = PanicService(switch, ledger)
    worker = Worker(
        outbox,
        switch,
        clock,
        worker_id="w1",
        backoff=Backoff(initial=1, maximum=10, jitter=0, max_attempts=max_attempts),
    )
    payments.register(worker)
    worker.on_loop = on_loop
    return World(clock, ledger, accounting, payments, worker, panic, outbox, rails)
