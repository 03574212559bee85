"""Rails: what each costs, how fast it is, what it accepts, and when it is open.

Fees are computed in integer minor units: `fixed + amount × bps / 10 000`, the
proportional part rounded half-up to a whole minor unit with Decimal (never floats),
then capped at `fee_cap` when one is set. Example: card, 12 345 minor units at 290 bps
+ 30 fixed: 12 345 × 290 / 10 000 = 358.005 → 358, + 30 = 388. Half-up (not banker's)
rounding, because that is what card and bank fee schedules publish.

Cut-off windows are daily UTC windows `[opens, closes)`; a rail marked
`business_days_only` is closed on Saturdays and Sundays. A payment outside the window
is not refused: it waits for the next opening, which moves its ETA.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from paygod.kernel.errors import FieldError, InvalidInput

RAIL_NAMES = ("ach", "wire", "card", "instant", "sepa_credit", "internal")
ANY_CURRENCY = "*"
BPS = Decimal(10_000)


@dataclass(frozen=True, slots=True)
class CutOff:
    opens: time
    closes: time
    business_days_only: bool = True

    def is_open(self, at: datetime) -> bool:
        if self.business_days_only and at.weekday() >= 5:
            return False
        now = at.timetz().replace(tzinfo=None)
        return self.opens <= now < self.closes

    def next_opening(self, at: datetime) -> datetime:
        """`at` itself when open, else the start of the next open window."""
        if self.is_open(at):
            return at
        day = at
        for _ in range(8):
            start = day.replace(
                hour=self.opens.hour, minute=self.opens.minute, second=0, microsecond=0
            )
            if start > at and self.is_open(start):
                return start
            day = (day + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
        return at  # a window that never opens is a configuration error; do not loop

    def as_dict(self) -> dict[str, Any]:
        return {
            "opens": self.opens.strftime("%H:%M"),
            "closes": self.closes.strftime("%H:%M"),
            "business_days_only": self.business_days_only,
        }


@dataclass(frozen=True, slots=True)
class RailSpec:
    name: str
    fixed_fee: int
    fee_bps: Decimal
    eta_seconds: int
    min_amount: int
    max_amount: int
    currencies: frozenset[str]
    payee_fields: tuple[tuple[str, ...], ...]  # any one of these field sets must be present
    cutoff: CutOff | None = None
    fee_cap: int | None = None
    enabled: bool = True

    def fee(self, amount: int) -> int:
        proportional = (Decimal(amount) * self.fee_bps / BPS).quantize(
            Decimal(1), rounding=ROUND_HALF_UP
        )
        total = self.fixed_fee + int(proportional)
        return min(total, self.fee_cap) if self.fee_cap is not None else total

    def accepts_currency(self, currency: str) -> bool:
        return ANY_CURRENCY in self.currencies or currency in self.currencies

    def missing_payee_fields(self, payee: Mapping[str, Any] | None) -> tuple[str, ...]:
        """() when some required field set is present, else the first set's missing fields."""
        if payee is None:
            return ()
        for fields in self.payee_fields:
            missing = tuple(f for f in fields if not payee.get(f))
            if not missing:
                return ()
        first = self.payee_fields[0] if self.payee_fields else ()
        return tuple(f for f in first if not payee.get(f))

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "fixed_fee": self.fixed_fee,
            "fee_bps": str(self.fee_bps),
            "fee_cap": self.fee_cap,
            "eta_seconds": self.eta_seconds,
            "min_amount": self.min_amount,
            "max_amount": self.max_amount,
            "currencies": sorted(self.currencies),
            "payee_fields": [list(f) for f in self.payee_fields],
            "cutoff": self.cutoff.as_dict() if self.cutoff else None,
            "enabled": self.enabled,
        }


def _weekdays(opens: str, closes: str) -> CutOff:
    return CutOff(time.fromisoformat(opens), time.fromisoformat(closes), True)


DEFAULT_RAILS: tuple[RailSpec, ...] = (
    RailSpec(
        "ach", 25, Decimal(0), 86_400, 1, 100_000_000, frozenset({"USD"}),
        (("account_number", "routing_number"),), _weekdays("00:00", "20:45"),
    ),
    RailSpec(
        "wire", 1_500, Decimal(0), 7_200, 1, 10_000_000_000, frozenset({"USD", "EUR", "GBP"}),
        (("account_number", "routing_number"), ("iban",)), _weekdays("00:00", "22:00"),
    ),
    RailSpec(
        "card", 30, Decimal(290), 172_800, 50, 1_000_000, frozenset({"USD", "EUR", "GBP"}),
        (("card_token",),),
    ),
    RailSpec(
        "instant", 50, Decimal(10), 10, 1, 50_000_000, frozenset({"USD"}),
        (("account_number", "routing_number"),), fee_cap=500,
    ),
    RailSpec(
        "sepa_credit", 20, Decimal(0), 86_400, 1, 99_999_999_999, frozenset({"EUR"}),
        (("iban",),), _weekdays("00:00", "15:00"),
    ),
    RailSpec(
        "internal", 0, Decimal(0), 0, 1, 10**15, frozenset({ANY_CURRENCY}), (("account",),),
    ),
)  # fmt: skip


@dataclass(frozen=True)
class RailCatalog:
    rails: tuple[RailSpec, ...] = DEFAULT_RAILS
    by_name: dict[str, RailSpec] = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "by_name", {r.name: r for r in self.rails})

    def get(self, name: str) -> RailSpec | None:
        return self.by_name.get(name)

    def names(self) -> list[str]:
        return [r.name for r in self.rails]

    @classmethod
    def from_mapping(
        cls, data: Mapping[str, Any], base: Iterable[RailSpec] = DEFAULT_RAILS
    ) -> RailCatalog:
        """Override defaults per rail from a mapping (e.g. a YAML file):
        `{"rails": {"ach": {"fixed_fee": 30, "fee_bps": "1.5", "enabled": false}}}`."""
        overrides = data.get("rails", data)
        if not isinstance(overrides, Mapping):
            raise InvalidInput("rails configuration must be a mapping")
        rails = {r.name: r for r in base}
        for name, values in overrides.items():
            pointer = f"/rails/{name}"
            if not isinstance(values, Mapping):
                raise InvalidInput("bad rail", errors=[FieldError(pointer, "must be a mapping")])
            current = rails.get(name)
            if current is None:
                raise InvalidInput(
                    "unknown rail", errors=[FieldError(pointer, f"known: {', '.join(rails)}")]
                )
            rails[name] = _apply(current, values, pointer)
        return cls(tuple(rails.values()))


def _apply(spec: RailSpec, values: Mapping[str, Any], pointer: str) -> RailSpec:
    changes: dict[str, Any] = {}
    for key, value in values.items():
        where = f"{pointer}/{key}"
        if key in {"fixed_fee", "eta_seconds", "min_amount", "max_amount", "fee_cap"}:
            bad = isinstance(value, bool) or not isinstance(value, int) or value < 0
            if bad and not (key == "fee_cap" and value is None):
                raise InvalidInput("bad rail", errors=[FieldError(where, "non-negative int")])
            changes[key] = value
        elif key == "fee_bps":
            if isinstance(value, bool | float):
                raise InvalidInput("bad rail", errors=[FieldError(where, "give bps as a string")])
            changes[key] = Decimal(str(value))
        elif key == "currencies":
            changes[key] = frozenset(str(c).upper() for c in value)
        elif key == "enabled":
            changes[key] = bool(value)
        elif key == "cutoff":
            changes[key] = (
                None
                if value is None
                else CutOff(
                    time.fromisoformat(value["opens"]),
                    time.fromisoformat(value["closes"]),
                    bool(value.get("business_days_only", True)),
                )
            )
        else:
            raise InvalidInput("bad rail", errors=[FieldError(where, "unknown setting")])
    return replace(spec, **changes)
