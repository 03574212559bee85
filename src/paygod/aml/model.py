"""AML nouns: a money movement, a tenant's thresholds, a typology hit and its alert.

Amounts are ints in minor units of the account's ledger; times are seconds since the
epoch (UTC), taken from the sealed transfer or payment, never from the scanner's clock.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from paygod.kernel.errors import FieldError

TYPOLOGIES = (
    "structuring",
    "rapid_in_out",
    "fan_in",
    "fan_out",
    "round_amounts",
    "high_risk_jurisdiction",
)
# The FATF lists a tenant may match payee countries against (jurisdictions.py).
LISTS = ("call_for_action", "increased_monitoring")
# A hit names at most this many transactions (a fan-in of thousands names the newest).
MAX_TRANSACTIONS = 200


@dataclass(frozen=True, slots=True)
class Movement:
    """One sealed movement of funds from `source` to `destination` (accounts, or a payee
    reference for a payment)."""

    tenant_id: str
    kind: str  # "transfer" | "payment"
    txn_id: str
    seq: int
    at: float
    source: str
    destination: str
    amount: int
    country: str | None = None

    def ref(self) -> dict[str, Any]:
        return {"kind": self.kind, "id": self.txn_id, "seq": self.seq, "amount": self.amount}


@dataclass(frozen=True, slots=True)
class Thresholds:
    """A tenant's typology parameters. The defaults follow common practice: the US
    currency-transaction-report threshold (31 CFR 1010.311, USD 10,000) for structuring,
    "just under" meaning within 10 % below it."""

    reporting_threshold: int = 1_000_000
    structuring_margin: float = 0.10
    structuring_count: int = 3
    structuring_window_hours: float = 72.0
    rapid_window_hours: float = 24.0
    rapid_fraction: float = 0.8
    rapid_min_amount: int = 100_000
    fan_count: int = 10
    fan_window_hours: float = 24.0
    round_unit: int = 100_000
    round_count: int = 3
    round_window_hours: float = 168.0
    jurisdiction_lists: tuple[str, ...] = LISTS

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["jurisdiction_lists"] = list(self.jurisdiction_lists)
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Thresholds:
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        if "jurisdiction_lists" in values:
            values["jurisdiction_lists"] = tuple(values["jurisdiction_lists"])
        return cls(**values)


_INTS = {
    "reporting_threshold": (1, 2**62),
    "structuring_count": (2, 1000),
    "rapid_min_amount": (0, 2**62),
    "fan_count": (2, 100_000),
    "round_unit": (1, 2**62),
    "round_count": (1, 1000),
}
_FLOATS = {
    "structuring_margin": (0.0, 0.99),
    "structuring_window_hours": (0.01, 24.0 * 366),
    "rapid_window_hours": (0.01, 24.0 * 366),
    "rapid_fraction": (0.01, 1.0),
    "fan_window_hours": (0.01, 24.0 * 366),
    "round_window_hours": (0.01, 24.0 * 366),
}


def threshold_problems(data: Any) -> list[FieldError]:
    """Why a thresholds document (a partial one: missing keys keep their value) is refused."""
    if not isinstance(data, Mapping):
        return [FieldError("", "expected an object")]
    found = [
        FieldError(f"/{k}", "unknown threshold")
        for k in data
        if k not in _INTS and k not in _FLOATS and k != "jurisdiction_lists"
    ]
    for name, (low, high) in _INTS.items():
        if name in data and (type(data[name]) is not int or not low <= data[name] <= high):
            found.append(FieldError(f"/{name}", f"must be an integer in [{low}, {high}]"))
    for name, (flow, fhigh) in _FLOATS.items():
        if name not in data:
            continue
        value: Any = data[name]
        if type(value) not in (int, float) or not flow <= value <= fhigh:
            found.append(FieldError(f"/{name}", f"must be a number in [{flow}, {fhigh}]"))
    lists = data.get("jurisdiction_lists", [])
    if not isinstance(lists, list) or any(x not in LISTS for x in lists):
        found.append(FieldError("/jurisdiction_lists", f"must be a list of {', '.join(LISTS)}"))
    return found


@dataclass(frozen=True, slots=True)
class Hit:
    """A typology matched: the subject it is about and the movements it rests on."""

    tenant_id: str
    typology: str
    subject: str
    movements: tuple[Movement, ...]
    detail: Mapping[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> str:
        """Same typology, subject and movements: the same hit, however often it is found
        (an incremental pass and a batch scan over the same history agree on it)."""
        ids = ",".join(f"{m.kind}:{m.txn_id}" for m in self.movements)
        text = f"{self.tenant_id}|{self.typology}|{self.subject}|{ids}"
        return hashlib.sha256(text.encode()).hexdigest()

    @property
    def alert_id(self) -> str:
        return "aml_" + self.key[:32]

    @property
    def at(self) -> float:
        return max(m.at for m in self.movements)

    def transactions(self) -> list[dict[str, Any]]:
        return [m.ref() for m in self.movements[-MAX_TRANSACTIONS:]]


@dataclass(frozen=True, slots=True)
class Alert:
    """A hit as raised: its `aml.alert` payload (what a case is opened from)."""

    alert_id: str
    tenant_id: str
    key: str
    typology: str
    subject: str
    raised_at: str
    payload: Mapping[str, Any]

    def as_dict(self) -> dict[str, Any]:
        return {**dict(self.payload), "tenant_id": self.tenant_id, "raised_at": self.raised_at}
