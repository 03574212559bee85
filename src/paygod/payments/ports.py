"""Ports the payments module owns: rail connectors, the decision it rests on, holds, payees."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from paygod.kernel.errors import PaygodError
from paygod.ledger.steps import Steps

if TYPE_CHECKING:
    from paygod.payments.stores.index import PaymentQuery
from paygod.payments.model import (
    Payment,
    PaymentDecision,
    PaymentInstruction,
    PaymentRequest,
    RailReceipt,
    SettlementNotice,
)

SettlementListener = Callable[[SettlementNotice], None]


class RailConnector(Protocol):
    """Carries one payment instruction to one rail.

    `send` must be idempotent on `instruction.idempotency_key` at the rail (real rails
    dedupe on it). It raises `RailUnavailable` when the rail did not take the payment (safe
    to try another rail) and `RailRefused` when the instruction itself is unacceptable.
    `lookup` asks the rail what it knows about a key without sending anything: after a
    crash mid-dispatch the executor looks before it sends again. A connector may say
    `blocking = False` when its calls do no I/O at all (the zero-latency simulated rail):
    the executor then calls it in place on its event loop; any other is called from a
    thread.
    """

    name: str

    def send(self, instruction: PaymentInstruction) -> RailReceipt: ...

    def lookup(self, idempotency_key: str) -> RailReceipt | None: ...


class PaymentDecider(Protocol):
    """Asks the decision runtime about a payment and returns the sealed decision, as
    ledger steps (ledger/steps.py): the caller decides how to wait for the seal. `rail` is
    the rail the router selected (the policy may limit amounts by rail)."""

    def decide_steps(
        self,
        *,
        tenant_id: str,
        payment_id: str,
        request: PaymentRequest,
        requested_by: str,
        idempotency_key: str,
        rail: str | None = None,
    ) -> Steps[PaymentDecision]: ...


class Holds(Protocol):
    """Two-phase money movement for payments (accounting pending transfers).

    Each operation runs inside the ledger transaction `conn` that records the payment's
    transition and returns the ledger drafts that must be appended in that transaction.
    `place` returns the hold id, or the refusal (the payment then fails, recorded);
    `post`, `release` and `reverse` raise theirs. `committed` is told once the
    transaction that placed a hold has committed.
    """

    def place(self, conn: Any, payment: Payment) -> tuple[str | PaygodError, list[Any]]: ...

    def committed(self, payment: Payment) -> None: ...

    def post(self, conn: Any, payment: Payment) -> list[Any]: ...

    def release(self, conn: Any, payment: Payment) -> list[Any]: ...

    def reverse(self, conn: Any, payment: Payment) -> list[Any]: ...

    def abandon(self, conn: Any, payment: Payment) -> list[Any]:
        """Void whatever of the payment's holds is still pending (it will not be sent)."""
        ...

    def problem(self, conn: Any, payment: Payment) -> str | None:
        """Why the payment's hold no longer covers it (gone, voided, posted, expired, smaller
        than the payment), read in transaction `conn`; None while it does. Checked before
        every send: money leaves only against a hold that still holds it."""
        ...


class Allowances(Protocol):
    """What a payment may spend beyond its payer's funds (paygod.mandates: the allowance
    of the mandate it is made under). Its holds are linked to the payment's own hold in
    the same accounting batch, so both are placed or neither is."""

    def hold_requests(
        self, conn: Any, payment: Payment
    ) -> tuple[list[Any] | PaygodError, list[Any]]:
        """(The pending transfers to link to the payment's hold, or why none may be; the
        ledger drafts of what was prepared for them: a period's allowance opened...)."""
        ...

    def hold_ids(self, conn: Any, payment: Payment) -> list[str]:
        """The ids of the holds `hold_requests` placed (to post or void with the payment's)."""
        ...

    def problem(self, conn: Any, payment: Payment) -> str | None:
        """Why the payment may no longer be sent (its mandate revoked...), read in `conn`."""
        ...


class PaymentIndex(Protocol):
    """Each payment's newest state, written with the ledger entry (`conn`) it mirrors."""

    def record(self, conn: Any, payments: Sequence[Payment]) -> None: ...

    def search(self, query: PaymentQuery) -> list[Payment]: ...

    def counts(self, tenant_id: str | None) -> dict[str, int]: ...


class PayeeVault(Protocol):
    """Where raw payee details live (personal data), outside the ledger.

    `put` receives the ledger's transaction handle (`conn`), so the payee row commits
    with the entry that references it. It returns False, writing nothing, when the
    payment already has its payee row: the first writer keeps its details.
    """

    def put(
        self, conn: Any, payment_id: str, payee: Mapping[str, Any], tenant_id: str = "default"
    ) -> bool: ...

    def get(self, payment_id: str) -> dict[str, Any] | None:
        """The payee's details; None when unknown or erased (its subject's key shredded)."""


class SealedRecord(Protocol):
    @property
    def urn(self) -> str: ...


class PersonalDataVault(Protocol):
    """The privacy vault as payments uses it (paygod.privacy.service.PrivacyService): the
    payee sealed under its data subject's key on the payment's transaction."""

    def seal_in(
        self, conn: Any, tenant_id: str, subject: str, record_class: str, data: Mapping[str, Any]
    ) -> SealedRecord: ...

    def read(self, tenant_id: str, record_ref: str) -> dict[str, Any]: ...


# Maker-checker: raise (Forbidden) unless `checker` counts as a second person for the payment
# requested by `maker`. Identity supplies it; payments never reads principals itself.
SecondPerson = Callable[[str, str], None]
