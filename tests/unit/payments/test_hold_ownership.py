"""D6: a payment's hold (and its posting and reversal) belongs to the payments module.

A user, even the tenant's admin, cannot post, void or reverse it through /v1/transfers
(single route or batch): 409 `transfer_owned_by_module`, nothing recorded. And a payment
checks, in the transaction recording its intent to send, that its hold still holds the
money: if anyone released it, the payment fails closed and no rail is called.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest

from paygod.accounting import TransferFlags, TransferRequest
from paygod.accounting.service import voiding
from paygod.bootstrap import Kernel, build_kernel
from paygod.payments.model import PaymentStatus
from paygod.payments.signing import sign
from paygod.payments.wiring import webhook_secret
from tests.support.accounts import open_funded_payer
from tests.support.http import api_client, principal_headers
from tests.unit.payments.support import US_BANK, world


@pytest.fixture
def kernel(paygod_home: Path) -> Iterator[Kernel]:
    kernel = build_kernel()
    open_funded_payer(kernel.accounting, amount=5_000)
    yield kernel
    kernel.close()


def held_payment(kernel: Kernel, key: str = "p1") -> str:
    kernel.panic.turn_on("hold the queue", "ops")
    made = api_client(kernel).post(
        "/v1/payments",
        json={
            "payer_account": "agent-1",
            "payee": US_BANK,
            "amount": 5_000,
            "currency": "USD",
            "purpose": "invoice",
            "metadata": {"counterparty_verified": True},
        },
        headers={"Idempotency-Key": key},
    )
    assert made.status_code == 201 and made.json()["status"] == "held", made.text
    return str(made.json()["payment_id"])


def assert_owned_refusal(response, pointer: str) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code == 409, response.text
    problem = response.json()
    assert problem["type"].endswith("/transfer_owned_by_module")
    assert problem["errors"][0]["pointer"] == pointer
    assert "payments" in problem["detail"]


@pytest.mark.parametrize("action", ["void", "post"])
def test_the_tenant_admin_cannot_move_a_live_payment_hold(kernel: Kernel, action: str) -> None:
    payment_id = held_payment(kernel)
    admin = api_client(kernel, principal_headers(kernel, roles=["admin"], tenant_id="default"))
    size = kernel.ledger.size
    for body in ({}, {"id": "my-own-id"}, {"metadata": {"note": "ops"}}):
        refused = admin.post(f"/v1/transfers/{payment_id}.hold/{action}", json=body)
        assert_owned_refusal(refused, "/pending_id")
    # The batch route, a linked chain, the platform admin: the same refusal.
    for client in (admin, api_client(kernel)):
        batch = client.post(
            "/v1/transfers",
            json={
                "transfers": [
                    {"id": f"x-{action}", "pending_id": f"{payment_id}.hold",
                     "flags": [f"{action}_pending"]}
                ]
            },
        )  # fmt: skip
        assert batch.status_code == 409, batch.text
    assert kernel.ledger.size == size
    kernel.panic.turn_off("ops")
    kernel.executor.drain()
    assert kernel.payments.get(payment_id).status is PaymentStatus.SETTLED
    balance = admin.get("/v1/accounts/agent-1/balance").json()
    assert balance["debits_posted"] == 5_000  # paid once, from the 5,000 it had


def test_a_user_cannot_claim_a_module_owner_in_metadata(kernel: Kernel) -> None:
    admin = api_client(kernel)
    refused = admin.post(
        "/v1/transfers",
        json={
            "id": "fake-hold",
            "debit_account_id": "agent-1",
            "credit_account_id": "treasury",
            "amount": 10,
            "ledger": "USD",
            "flags": ["pending"],
            "metadata": {"owned_by": "payments"},
        },
    )
    assert refused.status_code == 422, refused.text
    assert refused.json()["errors"][0]["pointer"] == "/metadata/owned_by"


def test_a_settled_or_reversed_payment_transfers_cannot_be_reversed_by_a_user(
    kernel: Kernel,
) -> None:
    payment_id = held_payment(kernel)
    kernel.panic.turn_off("ops")
    kernel.executor.drain()
    admin = api_client(kernel)
    assert_owned_refusal(
        admin.post(f"/v1/transfers/{payment_id}.hold.post/reverse", json={}), "/reversal_of"
    )
    body = orjson.dumps({"idempotency_key": payment_id, "status": "reversed"})
    secret = webhook_secret(kernel.settings.home)
    header = sign(secret, body, timestamp=int(kernel.clock.now().timestamp()))
    rail = kernel.payments.get(payment_id).rail
    hook = admin.post(
        f"/v1/payments/webhooks/{rail}", content=body, headers={"Paygod-Signature": header}
    )
    assert hook.status_code == 200, hook.text
    assert_owned_refusal(
        admin.post(f"/v1/transfers/{payment_id}.hold.post.reversal/reverse", json={}),
        "/reversal_of",
    )
    assert kernel.payments.get(payment_id).status is PaymentStatus.REVERSED
    balance = admin.get("/v1/accounts/agent-1/balance").json()
    assert (balance["debits_posted"], balance["credits_posted"]) == (5_000, 10_000)


def test_a_payment_whose_hold_was_released_fails_closed_and_calls_no_rail() -> None:
    w = world()
    w.panic.turn_on("queue", "ops")
    payment = w.pay("k1")
    assert payment.status is PaymentStatus.HELD
    # Released behind the payment's back (as a hold placed before ownership was recorded,
    # or a bug in another module, could be): the payment must not pay from nothing.
    (released,) = w.accounting.create_transfers(
        "default", [voiding(payment.hold_id, module="payments")]
    )
    assert released.error is None
    w.panic.turn_off("ops")
    w.worker.drain()
    after = w.payments.get(payment.payment_id)
    assert after.status is PaymentStatus.FAILED
    assert "no longer pending" in (after.failure_reason or "")
    assert sum(sum(rail.attempts.values()) for rail in w.rails.values()) == 0


def test_a_module_moves_only_its_own_transfers() -> None:
    w = world()
    (mine,) = w.accounting.create_transfers(
        "default",
        [
            TransferRequest(
                id="user-hold",
                debit_account_id="agent-1",
                credit_account_id="treasury",
                amount=10,
                ledger="USD",
                flags=TransferFlags(pending=True),
                module="credits",
            )
        ],
    )
    assert mine.error is None
    (refused,) = w.accounting.create_transfers("default", [voiding("user-hold", module="payments")])
    assert refused.error is not None and refused.error.code == "transfer_owned_by_module"
    (ok,) = w.accounting.create_transfers("default", [voiding("user-hold", module="credits")])
    assert ok.error is None
