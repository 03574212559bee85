"""The typologies as one incremental monitor: movements in ledger order in, hits out.

State is per tenant and account: short windows of recent movements, each pruned to its
typology's window as movements arrive. Once a hit is raised, the movements it rests on
leave that typology's window, so the next hit needs fresh movements (one burst, one
alert). Everything depends only on the movements and thresholds seen, in order: an
incremental pass and a batch scan over the same ledger raise the same hits.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from paygod.aml.jurisdictions import fatf
from paygod.aml.model import Hit, Movement, Thresholds

HOUR = 3600.0


@dataclass
class AccountWindows:
    sub_threshold: deque[Movement] = field(default_factory=deque)
    round_amounts: deque[Movement] = field(default_factory=deque)
    fan_in: deque[Movement] = field(default_factory=deque)
    fan_out: deque[Movement] = field(default_factory=deque)
    inflows: deque[Movement] = field(default_factory=deque)
    outflows: deque[Movement] = field(default_factory=deque)


def _enough(
    window: deque[Movement], m: Movement, hours: float, count: int
) -> tuple[Movement, ...] | None:
    """`m` added to the window of the last `hours`; once it holds `count` movements, they
    are the hit's and the window starts again (one alert per burst, not one per movement)."""
    _prune(window, m.at, hours)
    window.append(m)
    if len(window) < count:
        return None
    found = tuple(window)
    window.clear()
    return found


def _prune(window: deque[Movement], now: float, hours: float) -> None:
    cutoff = now - hours * HOUR
    while window and window[0].at < cutoff:
        window.popleft()


class Monitor:
    def __init__(self) -> None:
        self.thresholds: dict[str, Thresholds] = {}
        self.accounts: dict[tuple[str, str], AccountWindows] = {}

    def set_thresholds(self, tenant_id: str, thresholds: Thresholds) -> None:
        self.thresholds[tenant_id] = thresholds

    def _windows(self, tenant_id: str, account: str) -> AccountWindows:
        key = (tenant_id, account)
        found = self.accounts.get(key)
        if found is None:
            found = self.accounts[key] = AccountWindows()
        return found

    def observe(self, m: Movement) -> list[Hit]:
        t = self.thresholds.get(m.tenant_id) or Thresholds()
        if m.kind == "payment":
            # A payment's funds move as its hold's transfers (counted there); the payment
            # adds where they go.
            return [h for h in (self._jurisdiction(m, t),) if h is not None]
        out = self._windows(m.tenant_id, m.source)
        into = self._windows(m.tenant_id, m.destination)
        checks: Iterable[Callable[[], Hit | None]] = (
            lambda: self._structuring(m, t, out),
            lambda: self._round(m, t, out),
            lambda: self._fan(m, t, out.fan_out, "fan_out", m.source, lambda x: x.destination),
            lambda: self._fan(m, t, into.fan_in, "fan_in", m.destination, lambda x: x.source),
            lambda: self._rapid(m, t, out, into),
        )
        return [h for h in (check() for check in checks) if h is not None]

    def _structuring(self, m: Movement, t: Thresholds, w: AccountWindows) -> Hit | None:
        low = t.reporting_threshold * (1.0 - t.structuring_margin)
        if not low <= m.amount < t.reporting_threshold:
            return None
        found = _enough(w.sub_threshold, m, t.structuring_window_hours, t.structuring_count)
        if found is None:
            return None
        detail = {
            "reporting_threshold": t.reporting_threshold,
            "just_under_from": int(low),
            "count": len(found),
            "total": sum(x.amount for x in found),
            "window_hours": t.structuring_window_hours,
        }
        return Hit(m.tenant_id, "structuring", m.source, found, detail)

    def _round(self, m: Movement, t: Thresholds, w: AccountWindows) -> Hit | None:
        if m.amount < t.round_unit or m.amount % t.round_unit:
            return None
        found = _enough(w.round_amounts, m, t.round_window_hours, t.round_count)
        if found is None:
            return None
        detail = {
            "round_unit": t.round_unit,
            "count": len(found),
            "window_hours": t.round_window_hours,
        }
        return Hit(m.tenant_id, "round_amounts", m.source, found, detail)

    def _fan(
        self,
        m: Movement,
        t: Thresholds,
        window: deque[Movement],
        typology: str,
        subject: str,
        other: Callable[[Movement], str],
    ) -> Hit | None:
        _prune(window, m.at, t.fan_window_hours)
        window.append(m)
        distinct = {other(x) for x in window}
        if len(distinct) < t.fan_count:
            return None
        found = tuple(window)
        window.clear()
        detail = {"distinct_counterparties": len(distinct), "window_hours": t.fan_window_hours}
        return Hit(m.tenant_id, typology, subject, found, detail)

    def _rapid(
        self, m: Movement, t: Thresholds, out: AccountWindows, into: AccountWindows
    ) -> Hit | None:
        """Funds arrived at `m.source` and leave again within the window: the oldest
        arrival (at least `rapid_min_amount`) whose later departures reach the fraction."""
        if m.amount >= t.rapid_min_amount:
            into.inflows.append(m)
        _prune(out.inflows, m.at, t.rapid_window_hours)
        if not out.inflows:
            out.outflows.clear()
            return None
        _prune(out.outflows, m.at, t.rapid_window_hours)
        out.outflows.append(m)
        for arrival in out.inflows:
            leaving = [x for x in out.outflows if x.seq > arrival.seq]
            total = sum(x.amount for x in leaving)
            if total >= t.rapid_fraction * arrival.amount:
                out.inflows.remove(arrival)
                gone = {x.seq for x in leaving}
                out.outflows = deque(x for x in out.outflows if x.seq not in gone)
                hours = (m.at - arrival.at) / HOUR
                detail = {
                    "arrived": arrival.amount,
                    "left": total,
                    "fraction": round(total / arrival.amount, 4),
                    "within_hours": round(hours, 3),
                    "window_hours": t.rapid_window_hours,
                }
                return Hit(m.tenant_id, "rapid_in_out", m.source, (arrival, *leaving), detail)
        return None

    def _jurisdiction(self, m: Movement, t: Thresholds) -> Hit | None:
        if m.country is None:
            return None
        lists = fatf()
        listed = lists.listed(m.country, t.jurisdiction_lists)
        if listed is None:
            return None
        detail = {
            "country": m.country,
            "list": listed,
            "list_source": lists.source,
            "list_published": lists.published,
        }
        return Hit(m.tenant_id, "high_risk_jurisdiction", m.source, (m,), detail)
