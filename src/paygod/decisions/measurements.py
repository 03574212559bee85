"""Measurements: named features computed before evaluation, each with provenance.

`amount_minor` comes from the request; velocity counts and sums are read from the
decisions already sealed for the same subject (the decision index, written in the
same transaction as the ledger entries) over sliding windows ending now.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from paygod.canonical import MAX_SAFE_INTEGER
from paygod.decisions.ports import DecisionIndex
from paygod.kernel.clock import isoformat

WINDOWS = {"1h": timedelta(hours=1), "24h": timedelta(hours=24)}


@dataclass(frozen=True)
class Measurement:
    name: str
    # Numbers, except the risk band (a word) and the risk reasons (a list of words).
    value: int | float | str | list[str] | None
    unit: str
    provider: str
    window_from: str | None = None
    window_to: str | None = None

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "name": self.name,
            "value": self.value,
            "unit": self.unit,
            "provider": self.provider,
        }
        if self.window_from is not None:
            out["window"] = {"from": self.window_from, "to": self.window_to}
        return out


def _minor_units(value: Any) -> int | None:
    """An integer amount, however the JSON wrote it.

    `4999.0` is the integer 4999 to JSON Schema (the pack's `type: integer` accepts it)
    and to RFC 8785 (the sealed input reads `4999`), so it is 4999 here too. Read as
    "no amount" it made `measure.amount_minor` null and left the amount out of
    `amount_1h`/`amount_24h`: writing amounts as X.0 slipped past review thresholds
    and daily limits. Beyond ±(2^53-1) a double no longer names one integer: no amount.
    A new request with such a value is refused (`amount_problems`, and the safe-number
    rule); the None here keeps decisions sealed before that replaying as they were.
    """
    if type(value) is int:
        return value
    if type(value) is float and value.is_integer() and abs(value) <= MAX_SAFE_INTEGER:
        return int(value)
    return None


AMOUNT_MESSAGE = 'must be a whole number of minor units (4999, not 49.99 or "4999")'


def amount_problems(input_doc: Any, context: Any) -> list[tuple[str, str]]:
    """(pointer, reason) for each `amount_minor` that is given but is not an amount.

    `amount_minor` feeds `measure.amount_minor` and the `amount_1h`/`amount_24h` sums that
    review thresholds and daily limits read. A value with no exact integer (`49.99`,
    `"4999"`, `true`) was measured as no amount: the decision was sealed and its amount
    left out of every sum, so writing an amount another way slipped past amount-based
    rules. Such a request is refused instead; an absent or null amount is still no
    amount, since not every decision moves money.
    """
    payment = input_doc.get("payment") if isinstance(input_doc, Mapping) else None
    found: list[tuple[str, str]] = []
    for pointer, source in (
        ("/input/payment/amount_minor", payment),
        ("/context/amount_minor", context),
    ):
        if not isinstance(source, Mapping):
            continue
        value = source.get("amount_minor")
        if value is not None and _minor_units(value) is None:
            found.append((pointer, AMOUNT_MESSAGE))
    return found


def request_amount(input_doc: Mapping[str, Any], context: Mapping[str, Any]) -> int | None:
    """The amount in minor units: `input.payment.amount_minor`, else `context.amount_minor`."""
    payment = input_doc.get("payment")
    for source in (payment if isinstance(payment, Mapping) else {}, context):
        amount = _minor_units(source.get("amount_minor"))
        if amount is not None:
            return amount
    return None


def measure(
    index: DecisionIndex,
    *,
    tenant_id: str,
    subject: str,
    input_doc: Mapping[str, Any],
    context: Mapping[str, Any],
    now: datetime,
) -> list[Measurement]:
    amount = request_amount(input_doc, context)
    found = [Measurement("amount_minor", amount, "minor_units", "request")]
    until = isoformat(now)
    for label, span in WINDOWS.items():
        since = isoformat(now - span)
        count, total = index.window(tenant_id, subject, since, until)
        found.append(
            Measurement(f"velocity_{label}", count, "decisions", "ledger:decisions", since, until)
        )
        found.append(
            Measurement(f"amount_{label}", total, "minor_units", "ledger:decisions", since, until)
        )
    return found


def values(measurements: list[Measurement]) -> dict[str, Any]:
    return {m.name: m.value for m in measurements}
