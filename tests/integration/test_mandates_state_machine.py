"""A mandate's allowance under any sequence of payments held, released (failed), posted
(settled) and a revocation: the same accounting holds the payments use
(payments/holds.py, linked with the mandate's), against a model of what must remain.
Nothing ever spends beyond the budget, and what remains is exactly budget - held - posted."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, invariant, precondition, rule

from paygod.bootstrap import Kernel, build_kernel
from paygod.identity.model import PrincipalKind
from paygod.kernel.errors import PaygodError
from paygod.kernel.settings import load_settings
from paygod.payments.holds import AccountingHolds
from paygod.payments.model import Payment, PaymentStatus
from tests.support.accounts import open_funded_payer
from tests.support.mandates import grant, party

BUDGET = 10_000  # 100.00
PER_PAYMENT = 4_000


@pytest.fixture(scope="module")
def kernel(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Kernel]:
    home: Path = tmp_path_factory.mktemp("mandate-machine")
    built = build_kernel(load_settings(home=home))
    open_funded_payer(built.accounting, "machine-payer", amount=10**12)
    try:
        yield built
    finally:
        built.close()


def _payment(mandate_id: str, agent: str, amount: int) -> Payment:
    return Payment(
        payment_id=f"pm-{uuid4().hex}",
        tenant_id="default",
        status=PaymentStatus.DECIDED,
        payer_account="machine-payer",
        payee_ref="sha256:x",
        amount=amount,
        currency="USD",
        purpose="machine",
        rail_preference="ach",
        metadata={"mandate_id": mandate_id},
        requested_by=agent,
        request_digest="sha256:x",
        created_at="",
        updated_at="",
    )


def test_the_allowance_follows_its_model(kernel: Kernel) -> None:
    human = party(kernel, f"h-{uuid4().hex[:6]}", PrincipalKind.HUMAN)
    agent = party(kernel, f"a-{uuid4().hex[:6]}", PrincipalKind.AGENT)
    holds = AccountingHolds(kernel.accounting, kernel.mandates.allowances)

    class Allowance(RuleBasedStateMachine):
        held = Bundle("held")

        def __init__(self) -> None:
            super().__init__()
            self.mandate = grant(
                kernel,
                human,
                agent,
                {"currency": "USD", "budget": "100.00", "max_per_payment": "40.00"},
            )
            self.open: dict[str, int] = {}
            self.posted = 0
            self.revoked = False

        def place(self, amount: int) -> tuple[Any, Payment]:
            payment = _payment(self.mandate.mandate_id, agent.principal_id, amount)
            result, _ = kernel.ledger.transact(lambda conn: holds.place(conn, payment))
            return result, payment

        @rule(target=held, amount=st.integers(min_value=1, max_value=5_000))
        def pay(self, amount: int) -> Any:
            fits = amount <= PER_PAYMENT and amount <= self.remaining() and not self.revoked
            result, payment = self.place(amount)
            assert isinstance(result, PaygodError) != fits, (amount, self.remaining(), result)
            if fits:
                self.open[payment.payment_id] = amount
                return replace(payment, hold_id=result)
            return None

        @precondition(lambda self: self.open)
        @rule(payment=held, settle=st.booleans())
        def resolve(self, payment: Payment | None, settle: bool) -> None:
            if payment is None or payment.payment_id not in self.open:
                return
            step = holds.post if settle else holds.release
            kernel.ledger.transact(lambda conn: (None, step(conn, payment)))
            amount = self.open.pop(payment.payment_id)
            if settle:
                self.posted += amount

        @rule()
        def revoke(self) -> None:
            if not self.revoked:
                kernel.mandates.service.revoke(
                    self.mandate.mandate_id,
                    tenant_id="default",
                    actor="machine",
                    any_mandate=True,
                    reason=None,
                )
                self.revoked = True

        def remaining(self) -> int:
            return BUDGET - self.posted - sum(self.open.values())

        @invariant()
        def allowance_matches(self) -> None:
            left = kernel.mandates.service.remaining(self.mandate)["remaining_minor"]
            assert left == self.remaining() >= 0

    run = Allowance.TestCase
    run.settings = settings(
        max_examples=12,
        stateful_step_count=20,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    run().runTest()
