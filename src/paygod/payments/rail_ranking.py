"""The rail router: which rail, at what cost, arriving when — and why not the others.

`quote` ranks every rail for one payment: eligible rails by the caller's preference
(cheapest: fee, then ETA; fastest: ETA, then fee; a named rail: that rail first, then
cheapest), ineligible rails after them with the reason. The eligible rails in rank order
are also the fallback order the dispatcher walks when a rail fails or its circuit is open.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from paygod.executor.breaker import BreakerBoard
from paygod.kernel.clock import isoformat
from paygod.kernel.errors import FieldError, InvalidInput, Rejected
from paygod.payments.errors import PaymentCode
from paygod.payments.rails import RailCatalog, RailSpec

PREFERENCES = ("cheapest", "fastest")


@dataclass(frozen=True, slots=True)
class RailOption:
    rail: str
    eligible: bool
    fee: int | None
    eta_seconds: int | None
    eta_at: datetime | None
    reason: str
    rank: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "rail": self.rail,
            "eligible": self.eligible,
            "rank": self.rank,
            "fee": self.fee,
            "eta_seconds": self.eta_seconds,
            "eta_at": isoformat(self.eta_at) if self.eta_at else None,
            "reason": self.reason,
        }


@dataclass(frozen=True, slots=True)
class Quote:
    amount: int
    currency: str
    preference: str
    quoted_at: datetime
    options: tuple[RailOption, ...]  # eligible in rank order, then the ineligible

    @property
    def selected(self) -> RailOption | None:
        return self.options[0] if self.options and self.options[0].eligible else None

    @property
    def fallback_order(self) -> list[str]:
        return [o.rail for o in self.options if o.eligible]

    def as_dict(self) -> dict[str, Any]:
        selected = self.selected
        return {
            "amount": self.amount,
            "currency": self.currency,
            "preference": self.preference,
            "quoted_at": isoformat(self.quoted_at),
            "selected": selected.as_dict() if selected else None,
            "rail": selected.rail if selected else None,
            "fee": selected.fee if selected else None,
            "eta_at": isoformat(selected.eta_at) if selected and selected.eta_at else None,
            "alternatives": [o.as_dict() for o in self.options[1:]]
            if selected
            else [o.as_dict() for o in self.options],
        }


def validate_preference(preference: str | None, catalog: RailCatalog) -> str:
    value = preference or "cheapest"
    if value not in PREFERENCES and catalog.get(value) is None:
        raise InvalidInput(
            "unknown rail preference",
            errors=[
                FieldError(
                    "/rail_preference",
                    f"expected one of {', '.join([*PREFERENCES, *catalog.names()])}",
                )
            ],
        )
    return value


class RailRouter:
    def __init__(self, catalog: RailCatalog, breakers: BreakerBoard | None = None) -> None:
        self.catalog = catalog
        self.breakers = breakers

    def quote(
        self,
        *,
        amount: int,
        currency: str,
        now: datetime,
        preference: str | None = None,
        payee: Mapping[str, Any] | None = None,
    ) -> Quote:
        preference = validate_preference(preference, self.catalog)
        eligible: list[RailOption] = []
        refused: list[RailOption] = []
        for spec in self.catalog.rails:
            why_not = self._why_not(spec, amount, currency, payee)
            if why_not:
                refused.append(RailOption(spec.name, False, None, None, None, why_not))
                continue
            start = spec.cutoff.next_opening(now) if spec.cutoff else now
            eta_at = start + timedelta(seconds=spec.eta_seconds)
            eligible.append(
                RailOption(
                    spec.name,
                    True,
                    spec.fee(amount),
                    int((eta_at - now).total_seconds()),
                    eta_at,
                    "waits for the cut-off window" if start > now else "",
                )
            )
        ranked = self._rank(eligible, preference)
        return Quote(amount, currency, preference, now, (*ranked, *refused))

    def _why_not(
        self, spec: RailSpec, amount: int, currency: str, payee: Mapping[str, Any] | None
    ) -> str:
        if not spec.enabled:
            return "rail disabled by configuration"
        if not spec.accepts_currency(currency):
            return (
                f"currency {currency} not supported (accepts {', '.join(sorted(spec.currencies))})"
            )
        if amount < spec.min_amount:
            return f"amount {amount} below the per-transaction minimum {spec.min_amount}"
        if amount > spec.max_amount:
            return f"amount {amount} above the per-transaction maximum {spec.max_amount}"
        missing = spec.missing_payee_fields(payee)
        if missing:
            return f"payee lacks {', '.join(missing)}"
        if self.breakers is not None:
            breaker = self.breakers.get(spec.name)
            if not breaker.would_allow():
                snap = breaker.snapshot()
                return f"circuit {snap.state.value} after {snap.consecutive_failures} failures"
        return ""

    def _rank(self, options: list[RailOption], preference: str) -> list[RailOption]:
        def cheapest(o: RailOption) -> tuple[int, int, str]:
            return (o.fee or 0, o.eta_seconds or 0, o.rail)

        def fastest(o: RailOption) -> tuple[int, int, str]:
            return (o.eta_seconds or 0, o.fee or 0, o.rail)

        if preference == "fastest":
            ordered = sorted(options, key=fastest)
        else:
            ordered = sorted(options, key=cheapest)
            if preference not in PREFERENCES:
                named = [o for o in ordered if o.rail == preference]
                ordered = named + [o for o in ordered if o.rail != preference]
        ranked: list[RailOption] = []
        best = ordered[0] if ordered else None
        for rank, option in enumerate(ordered, start=1):
            reason = _reason(option, rank, best, preference)
            if option.reason:
                reason += f" ({option.reason})"
            ranked.append(
                RailOption(
                    option.rail,
                    True,
                    option.fee,
                    option.eta_seconds,
                    option.eta_at,
                    reason,
                    rank,
                )
            )
        return ranked


def _reason(option: RailOption, rank: int, best: RailOption | None, preference: str) -> str:
    if rank == 1:
        if preference in PREFERENCES:
            return f"selected: {preference} eligible rail"
        if option.rail == preference:
            return "selected: the requested rail"
        return f"selected: requested rail {preference} is not eligible; cheapest instead"
    assert best is not None
    if preference == "fastest":
        later = (option.eta_seconds or 0) - (best.eta_seconds or 0)
        return f"fallback #{rank}: arrives {later} s later"
    return f"fallback #{rank}: costs {(option.fee or 0) - (best.fee or 0)} more"


def require_selection(quote: Quote) -> RailOption:
    selected = quote.selected
    if selected is None:
        raise Rejected(
            "no rail can carry this payment",
            code=PaymentCode.NO_ELIGIBLE_RAIL,
            extra={"alternatives": [o.as_dict() for o in quote.options]},
        )
    return selected
