"""Mandates seen from payments and decisions: the `Allowances` port of payments/holds.py
and the `measure.mandate.*` measurements packs read.

A payment names its mandate in `metadata.mandate_id` (with `merchant_id`,
`merchant_category` and, for a closed mandate, `transaction_id` beside it); payments
builds the decision's `context.mandate` from the same metadata (payments/decider.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from paygod.decisions.measurements import Measurement
from paygod.kernel.errors import InvalidInput, PaygodError
from paygod.mandates.jose import VerificationFailed
from paygod.mandates.model import PaymentUnderMandate
from paygod.mandates.service import MandateService
from paygod.mandates.verifier import merchant_allowed, problems

PROVIDER = "paygod:mandates"


def _text(doc: Mapping[str, Any], key: str) -> str | None:
    value = doc.get(key)
    return value if isinstance(value, str) else None


class PaymentAllowances:
    """payments' `Allowances` port, served by the mandate service."""

    def __init__(self, mandates: MandateService) -> None:
        self.mandates = mandates

    @staticmethod
    def request_of(payment: Any) -> PaymentUnderMandate | None:
        meta = dict(payment.metadata or {})
        mandate_id = _text(meta, "mandate_id")
        if mandate_id is None:
            return None
        return PaymentUnderMandate(
            mandate_id=mandate_id,
            tenant_id=payment.tenant_id,
            agent=payment.requested_by,
            amount=payment.amount,
            currency=payment.currency,
            merchant=_text(meta, "merchant_id"),
            category=_text(meta, "merchant_category"),
            rail=payment.rail or payment.rail_preference,
            transaction_id=_text(meta, "transaction_id"),
        )

    def hold_requests(self, conn: Any, payment: Any) -> tuple[list[Any] | PaygodError, list[Any]]:
        req = self.request_of(payment)
        if req is None:
            return [], []
        return self.mandates.hold_requests(conn, req, payment.payment_id)

    def hold_ids(self, conn: Any, payment: Any) -> list[str]:
        req = self.request_of(payment)
        return self.mandates.hold_ids(conn, req.mandate_id, payment.payment_id) if req else []

    def problem(self, conn: Any, payment: Any) -> str | None:
        req = self.request_of(payment)
        return self.mandates.dispatch_problem(conn, req.mandate_id) if req else None


class MandateMeasurements:
    """`measure.mandate.*` for a decision whose context names a mandate."""

    def __init__(self, mandates: MandateService) -> None:
        self.mandates = mandates

    def __call__(
        self,
        tenant_id: str,
        requested_by: str | None,
        input_doc: Mapping[str, Any],
        context: Mapping[str, Any],
    ) -> list[Measurement]:
        named = context.get("mandate")
        if not isinstance(named, Mapping) or not isinstance(named.get("mandate_id"), str):
            return []
        payment = input_doc.get("payment")
        payment = payment if isinstance(payment, Mapping) else {}
        amount = payment.get("amount_minor", context.get("amount_minor"))
        req = PaymentUnderMandate(
            mandate_id=str(named["mandate_id"]),
            tenant_id=tenant_id,
            agent=str(requested_by or ""),
            amount=amount if type(amount) is int else 0,
            currency=str(payment.get("currency") or context.get("currency") or ""),
            merchant=_text(named, "merchant"),
            category=_text(named, "category"),
            rail=_text(named, "rail"),
            transaction_id=_text(named, "transaction_id"),
        )
        return self.measure(req)

    def measure(self, req: PaymentUnderMandate) -> list[Measurement]:
        now = self.mandates.clock.now()
        mandate = self.mandates.store.get(req.mandate_id)
        found: list[tuple[str, str]] = [*problems(mandate, req, now)]
        if mandate is None or mandate.tenant_id != req.tenant_id:
            mandate = None
        elif not found:
            try:  # signatures, holder binding and times, again, now
                self.mandates.verifier.stored(mandate, now)
            except (VerificationFailed, InvalidInput) as exc:
                found = [("signature", getattr(exc, "detail", str(exc)))]
        left = self.mandates.remaining(mandate) if mandate is not None else {}
        remaining = int(left.get("remaining_minor", 0))
        uses = left.get("payments_left")
        if isinstance(uses, int) and uses <= 0:
            found.append(("used", "the mandate's payments are used up"))
        if req.amount > remaining:
            found.append(("allowance", "the payment exceeds what remains of the mandate"))
        values: list[tuple[str, Any, str]] = [
            ("mandate.id", req.mandate_id, "id"),
            ("mandate.digest", mandate.digest if mandate else None, "sha256"),
            ("mandate.valid", not found, "boolean"),
            ("mandate.problem", found[0][0] if found else None, "reason"),
            ("mandate.remaining", remaining, "minor_units"),
            (
                "mandate.merchant_allowed",
                bool(mandate and merchant_allowed(mandate, req.merchant)),
                "boolean",
            ),
        ]
        return [Measurement(name, value, unit, PROVIDER) for name, value, unit in values]
