"""Measurements: named features computed before evaluation, each with provenance.

`amount_minor` comes from the request; velocity counts and sums are read from the
decisions already sealed for the same subject (the decision index, written in the
same transaction as the ledger entries) over sliding windows ending now.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from paygod.canonical import MAX_SAFE_INTEGER
from paygod.decisions.model import Pack
from paygod.decisions.ports import DecisionIndex
from paygod.kernel.clock import isoformat

# (tenant_id, subject, purpose) -> whether an unrevoked grant stands now.
ConsentLookup = Callable[[str, str, str], bool]
CONSENT_PATH = re.compile(r"^measure\.consent\.([A-Za-z0-9_-]{1,100})$")
WINDOWS = {"1h": timedelta(hours=1), "24h": timedelta(hours=24)}


@dataclass(frozen=True)
class Measurement:
    name: str
    # Numbers and flags, except words (the risk band, a KYC level) and lists of words.
    value: bool | int | float | str | list[str] | None
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


def consent_purposes(packs: Iterable[Pack]) -> list[str]:
    """The purposes whose consent the packs' conditions read (`measure.consent.<purpose>`)."""
    found: list[str] = []
    for pack in packs:
        cached = _PURPOSES.get(pack.digest)
        if cached is None:
            cached = tuple(
                dict.fromkeys(
                    match.group(1)
                    for rule in pack.rules
                    for text, _ in rule.condition.paths
                    if (match := CONSENT_PATH.match(text))
                )
            )
            _PURPOSES[pack.digest] = cached
        found.extend(p for p in cached if p not in found)
    return found


_PURPOSES: dict[str, tuple[str, ...]] = {}


def measure(
    index: DecisionIndex,
    *,
    tenant_id: str,
    subject: str,
    input_doc: Mapping[str, Any],
    context: Mapping[str, Any],
    now: datetime,
    consent: ConsentLookup | None = None,
    purposes: Sequence[str] = (),
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
    for purpose in purposes:
        # Read now, from the consent records: a withdrawal stops the very next decision.
        # Without a consent registry (a kernel without identity) no consent is given.
        given = bool(consent(tenant_id, subject, purpose)) if consent is not None else False
        found.append(Measurement(f"consent.{purpose}", given, "boolean", "identity:consent"))
    return found


def measure_in(
    index: DecisionIndex,
    conn: Any,
    *,
    tenant_id: str,
    subject: str,
    measured: list[Measurement],
    now: datetime,
) -> list[Measurement]:
    """`measured` again, inside the ledger's write transaction (`DecisionIndex.windows_in`).

    Measured before the transaction, the windows are stale under concurrency: forty
    decisions for one subject sent at once all read the count before any of them was
    recorded, and 33 passed a limit of 20. The writers take turns on the ledger's write
    lock, so this reading counts every decision recorded before this one.
    """
    sinces = [isoformat(now - span) for span in WINDOWS.values()]
    windows = dict(zip(WINDOWS, index.windows_in(conn, tenant_id, subject, sinces), strict=True))
    fresh = []
    for m in measured:
        label = m.name.rpartition("_")[2]
        if m.provider == "ledger:decisions" and label in windows:
            count, total = windows[label]
            m = replace(m, value=count if m.name.startswith("velocity_") else total)
        fresh.append(m)
    return fresh


def values(measurements: list[Measurement]) -> dict[str, Any]:
    return nest((m.name, m.value) for m in measurements)


def nest(pairs: Iterable[tuple[str, Any]]) -> dict[str, Any]:
    """Measurement values as conditions read them: by name, and a dotted name
    (`consent.marketing`, `kyc.level`) also as a path (`measure.kyc.level`), which is how
    packs read a source's group of measurements."""
    out: dict[str, Any] = {}
    for name, value in pairs:
        out[name] = value
        if "." in name:
            head, tail = name.split(".", 1)
            group = out.setdefault(head, {})
            if isinstance(group, dict):
                group[tail] = value
    return out
