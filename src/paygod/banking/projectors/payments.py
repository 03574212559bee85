"""The payment index (`payment_index`) from the `payment` entries: each entry seals the
payment's whole new state, so the newest entry of a payment is its row."""

from __future__ import annotations

from typing import Any

from paygod.banking.projectors.base import Key, Projector, Row, Table
from paygod.ledger import Entry
from paygod.payments.model import Payment
from paygod.payments.stores.index import index_row

INDEX = Table(
    "payment_index",
    ("payment_id", "tenant_id", "status", "review", "requested_by", "updated_at", "payment"),
    ("payment_id",),
    frozenset({"payment"}),
)


class PaymentIndexProjector(Projector):
    name = "payments"
    tables = (INDEX,)
    kinds = frozenset({"payment"})

    def __init__(self, resolve: Any) -> None:
        super().__init__(resolve)
        self._rows: dict[Key, Row] = {}

    def apply(self, entry: Entry) -> None:
        payment = Payment.from_dict(entry.payload["payment"])
        key = (payment.payment_id,)
        self._rows[key] = index_row(payment)
        self.touch(INDEX.name, key)

    def rows(self, table: str) -> dict[Key, Row]:
        return dict(self._rows)
