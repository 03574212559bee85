"""The payment's own lifecycle: the transition table and the step that refuses the rest."""

from __future__ import annotations

import pytest

from paygod.payments.model import (
    TERMINAL,
    TRANSITIONS,
    IllegalTransition,
    Payment,
    PaymentStatus,
)


def payment(status: PaymentStatus) -> Payment:
    return Payment(
        payment_id="p-1",
        tenant_id="acme",
        status=status,
        payer_account="agent-1",
        payee_ref="payee:abc",
        amount=100,
        currency="EUR",
        purpose="test",
        rail_preference="sepa_credit",
        metadata={},
        requested_by="agent",
        request_digest="sha256:00",
        created_at="2026-01-01T00:00:00Z",
        updated_at="2026-01-01T00:00:00Z",
        version=3,
    )


def test_every_status_has_a_row_and_terminal_ones_go_nowhere_but_a_return() -> None:
    assert set(TRANSITIONS) == set(PaymentStatus)
    for status in TERMINAL - {PaymentStatus.SETTLED}:
        assert TRANSITIONS[status] == frozenset()
    assert TRANSITIONS[PaymentStatus.SETTLED] == {PaymentStatus.REVERSED}


@pytest.mark.parametrize("source", list(PaymentStatus))
@pytest.mark.parametrize("target", list(PaymentStatus))
def test_a_step_is_taken_only_when_the_table_has_it(
    source: PaymentStatus, target: PaymentStatus
) -> None:
    current = payment(source)
    if target in TRANSITIONS[source]:
        moved = current.move_to(target, "2026-01-02T00:00:00Z", failure_reason="x")
        assert (moved.status, moved.version, moved.updated_at) == (
            target,
            4,
            "2026-01-02T00:00:00Z",
        )
        assert moved.failure_reason == "x" and current.status is source  # a new value
    else:
        with pytest.raises(IllegalTransition) as refused:
            current.move_to(target, "2026-01-02T00:00:00Z")
        assert (refused.value.source, refused.value.target) == (source, target)


def test_a_settled_payment_cannot_be_dispatched_again() -> None:
    assert not payment(PaymentStatus.SETTLED).can_move_to(PaymentStatus.DISPATCHING)
