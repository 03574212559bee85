"""Risk features over sliding windows, kept incrementally and rebuildable from the ledger.

`WindowBook` holds, per tenant, the recent observations of every subject, payer and
counterparty as time-sorted series with running totals: a feature over any window is two
binary searches and a subtraction, never a scan of the ledger. `recompute` states the same
features by brute force over a plain list of observations; the property tests hold the
two together (incremental == recomputed), and `WindowBook.rebuild` refills a book from the
`risk.features` entries the ledger sealed.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

MINUTE, HOUR, DAY = 60.0, 3600.0, 86400.0
# Labels arrive late (a case is closed days after the payment); fraud counts look back over
# the window plus this delay, as the handbook's terminal risk does.
LABEL_SPAN = 7 * DAY
RETENTION = 38 * DAY
# A payment of 10,000.00 is the usual currency-transaction reporting threshold; amounts
# just under it, repeated, are the structuring pattern.
REPORTING_THRESHOLD = 1_000_000
BELOW_THRESHOLD_BAND = 0.10
SMALL_AMOUNT = 500  # card testing probes with amounts under 5.00
IMPOSSIBLE_SPEED_KMH = 900.0  # faster than an airliner between two geolocations
MAX_SPEED_KMH = 100_000.0
NIGHT_HOURS = frozenset({0, 1, 2, 3, 4, 5})

FEATURES: tuple[str, ...] = (
    "amount_minor",
    "subject_count_10m",
    "subject_count_1h",
    "subject_count_24h",
    "subject_count_7d",
    "subject_count_30d",
    "subject_amount_1h",
    "subject_amount_24h",
    "subject_avg_amount_1d",
    "subject_avg_amount_7d",
    "subject_avg_amount_30d",
    "amount_to_avg_30d",
    # How unusual the amount is for this subject: standard deviations from its 30-day mean
    # (a stolen card's amounts several times the owner's, the handbook's third scenario).
    "amount_zscore_30d",
    "payer_count_1h",
    "payer_amount_24h",
    "counterparty_count_1d",
    "counterparty_count_7d",
    "counterparty_count_30d",
    "counterparty_fraud_14d",
    "counterparty_fraud_37d",
    "counterparty_fraud_rate_37d",
    # The handbook's terminal risk windows: transactions and confirmed frauds in the 1, 7
    # and 30 days that end a feedback delay ago (the labels of that period are all known).
    "counterparty_delayed_count_1d",
    "counterparty_delayed_count_7d",
    "counterparty_delayed_count_30d",
    "counterparty_risk_1d",
    "counterparty_risk_7d",
    "counterparty_risk_30d",
    "distinct_counterparties_1h",
    "distinct_counterparties_24h",
    "small_count_1h",
    "below_threshold_count_24h",
    "counterparty_age_seconds",
    "device_age_seconds",
    "country_mismatch",
    "travel_speed_kmh",
    "hour_of_day",
    "night",
    "weekend",
    "round_amount",
    "below_threshold",
)


@dataclass(frozen=True, slots=True)
class Observation:
    """What one decision tells the risk windows; references only, never personal data."""

    tenant_id: str
    subject: str
    at: float  # seconds since the epoch
    amount_minor: int
    payer: str | None = None
    counterparty: str | None = None
    device: str | None = None
    country: str | None = None
    ip_country: str | None = None
    lat: float | None = None
    lon: float | None = None
    timezone: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "tenant_id": self.tenant_id,
            "subject": self.subject,
            "at": self.at,
            "amount_minor": self.amount_minor,
            "payer": self.payer,
            "counterparty": self.counterparty,
            "device": self.device,
            "country": self.country,
            "ip_country": self.ip_country,
            "lat": self.lat,
            "lon": self.lon,
            "timezone": self.timezone,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Observation:
        return cls(
            tenant_id=str(data["tenant_id"]),
            subject=str(data["subject"]),
            at=float(data["at"]),
            amount_minor=int(data["amount_minor"]),
            payer=data.get("payer"),
            counterparty=data.get("counterparty"),
            device=data.get("device"),
            country=data.get("country"),
            ip_country=data.get("ip_country"),
            lat=data.get("lat"),
            lon=data.get("lon"),
            timezone=data.get("timezone"),
        )


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371.0088 * math.asin(min(1.0, math.sqrt(a)))


def travel_speed(prev: tuple[float, float, float] | None, obs: Observation) -> float:
    """km/h between the subject's previous geolocation and this one (0 without two)."""
    if prev is None or obs.lat is None or obs.lon is None:
        return 0.0
    at, lat, lon = prev
    km = haversine_km(lat, lon, obs.lat, obs.lon)
    if km < 1.0:
        return 0.0
    hours = max(obs.at - at, 1.0) / HOUR
    return round(min(km / hours, MAX_SPEED_KMH), 3)


def local_time(obs: Observation) -> datetime:
    when = datetime.fromtimestamp(obs.at, UTC)
    return when.astimezone(ZoneInfo(obs.timezone)) if obs.timezone else when


def amount_patterns(amount: int) -> tuple[int, int]:
    """(round amount, just below the reporting threshold), each 0 or 1."""
    round_amount = int(amount >= 10_000 and amount % 10_000 == 0)
    floor = REPORTING_THRESHOLD * (1 - BELOW_THRESHOLD_BAND)
    return round_amount, int(floor <= amount < REPORTING_THRESHOLD)


def _is_small(amount: int) -> bool:
    return 0 < amount < SMALL_AMOUNT


def _is_below(amount: int) -> bool:
    return amount_patterns(amount)[1] == 1


@dataclass
class Series:
    """Time-sorted events of one key with prefix sums: any window is two bisections."""

    times: list[float] = field(default_factory=list)
    amounts: list[int] = field(default_factory=list)
    others: list[str | None] = field(default_factory=list)
    cum: list[int] = field(default_factory=lambda: [0])
    small: list[int] = field(default_factory=lambda: [0])
    below: list[int] = field(default_factory=lambda: [0])
    squares: list[int] = field(default_factory=lambda: [0])

    def add(self, at: float, amount: int, other: str | None) -> None:
        i = bisect.bisect_right(self.times, at)
        self.times.insert(i, at)
        self.amounts.insert(i, amount)
        self.others.insert(i, other)
        if i == len(self.times) - 1:
            self.cum.append(self.cum[-1] + amount)
            self.small.append(self.small[-1] + _is_small(amount))
            self.below.append(self.below[-1] + _is_below(amount))
            self.squares.append(self.squares[-1] + amount * amount)
            return
        # Out of order (another process's clock, a rebuild): redo the tail's sums.
        del self.cum[i + 1 :], self.small[i + 1 :], self.below[i + 1 :], self.squares[i + 1 :]
        for amt in self.amounts[i:]:
            self.cum.append(self.cum[-1] + amt)
            self.small.append(self.small[-1] + _is_small(amt))
            self.below.append(self.below[-1] + _is_below(amt))
            self.squares.append(self.squares[-1] + amt * amt)

    def span(self, now: float, width: float) -> tuple[int, int]:
        """Indices of the events in (now - width, now]."""
        return (
            bisect.bisect_right(self.times, now - width),
            bisect.bisect_right(self.times, now),
        )

    def cuts(self, now: float, widths: Iterable[float]) -> tuple[int, dict[float, int]]:
        """(index after the last event at or before now, {width: first index inside it})."""
        times = self.times
        return bisect.bisect_right(times, now), {
            w: bisect.bisect_right(times, now - w) for w in widths
        }

    def count(self, now: float, width: float) -> int:
        i, j = self.span(now, width)
        return j - i

    def total(self, now: float, width: float) -> int:
        i, j = self.span(now, width)
        return self.cum[j] - self.cum[i]

    def distinct(self, now: float, width: float) -> int:
        i, j = self.span(now, width)
        return len({o for o in self.others[i:j] if o is not None})

    def prune(self, before: float) -> None:
        """Forget events at or before `before` (outside every window); amortised O(1)."""
        k = bisect.bisect_right(self.times, before)
        if k == 0 or k * 2 < len(self.times):
            return
        base, small, below = self.cum[k], self.small[k], self.below[k]
        squares = self.squares[k]
        del self.times[:k], self.amounts[:k], self.others[:k]
        self.cum = [c - base for c in self.cum[k:]]
        self.small = [c - small for c in self.small[k:]]
        self.below = [c - below for c in self.below[k:]]
        self.squares = [c - squares for c in self.squares[k:]]


@dataclass
class TenantWindows:
    subjects: dict[str, Series] = field(default_factory=dict)
    payers: dict[str, Series] = field(default_factory=dict)
    counterparties: dict[str, Series] = field(default_factory=dict)
    frauds: dict[str, list[float]] = field(default_factory=dict)
    first_counterparty: dict[tuple[str, str], float] = field(default_factory=dict)
    first_device: dict[tuple[str, str], float] = field(default_factory=dict)
    geos: dict[str, list[tuple[float, float, float]]] = field(default_factory=dict)


def _series(table: dict[str, Series], key: str) -> Series:
    found = table.get(key)
    if found is None:
        found = table[key] = Series()
    return found


def _first_seen(table: Mapping[tuple[str, str], float], key: tuple[str, str], now: float) -> float:
    first = table.get(key)
    return 0.0 if first is None or first > now else round(now - first, 3)


def _count_in(times: list[float], now: float, width: float) -> int:
    return bisect.bisect_right(times, now) - bisect.bisect_right(times, now - width)


class WindowBook:
    """Every tenant's windows. Not thread-safe by itself: the scorer holds its lock."""

    def __init__(self) -> None:
        self.tenants: dict[str, TenantWindows] = {}
        self.latest = 0.0

    def _tenant(self, tenant_id: str) -> TenantWindows:
        found = self.tenants.get(tenant_id)
        if found is None:
            found = self.tenants[tenant_id] = TenantWindows()
        return found

    def add(self, obs: Observation) -> None:
        t = self._tenant(obs.tenant_id)
        _series(t.subjects, obs.subject).add(obs.at, obs.amount_minor, obs.counterparty)
        _series(t.payers, obs.payer or obs.subject).add(obs.at, obs.amount_minor, None)
        if obs.counterparty is not None:
            _series(t.counterparties, obs.counterparty).add(obs.at, obs.amount_minor, None)
            key = (obs.subject, obs.counterparty)
            t.first_counterparty[key] = min(t.first_counterparty.get(key, obs.at), obs.at)
        if obs.device is not None:
            key = (obs.subject, obs.device)
            t.first_device[key] = min(t.first_device.get(key, obs.at), obs.at)
        if obs.lat is not None and obs.lon is not None:
            bisect.insort(t.geos.setdefault(obs.subject, []), (obs.at, obs.lat, obs.lon))
        if obs.at > self.latest:
            self.latest = obs.at
            if int(obs.at) % 64 == 0:  # now and then, not on every add
                self.prune()

    def label_fraud(self, tenant_id: str, counterparty: str, at: float) -> None:
        """A confirmed fraud on `counterparty` at `at` (a case closed as confirmed_fraud)."""
        bisect.insort(self._tenant(tenant_id).frauds.setdefault(counterparty, []), at)

    def prune(self) -> None:
        before = self.latest - RETENTION
        for t in self.tenants.values():
            for table in (t.subjects, t.payers, t.counterparties):
                for series in table.values():
                    series.prune(before)

    def features(self, obs: Observation) -> dict[str, float]:
        """The features of `obs` against what came before it (itself not yet added)."""
        t = self._tenant(obs.tenant_id)
        now = obs.at
        empty = Series()
        subject = t.subjects.get(obs.subject, empty)
        payer = t.payers.get(obs.payer or obs.subject, empty)
        cp = t.counterparties.get(obs.counterparty, empty) if obs.counterparty else empty
        frauds = t.frauds.get(obs.counterparty, []) if obs.counterparty else []
        geos = t.geos.get(obs.subject, [])
        i = bisect.bisect_right(geos, (now, math.inf, math.inf))
        prev_geo = geos[i - 1] if i else None
        j, cut = subject.cuts(now, _SUBJECT_WIDTHS)
        cum = subject.cum
        counts = {w: j - cut[width] for w, width in _SUBJECT_WINDOWS}
        pj, pcut = payer.cuts(now, (HOUR, DAY))
        cj, ccut = cp.cuts(now, (DAY, 7 * DAY, 30 * DAY, 30 * DAY + LABEL_SPAN))
        delayed = now - LABEL_SPAN
        dj, dcut = cp.cuts(delayed, _DELAYED)
        return _assemble(
            obs,
            counts=counts,
            amount_1h=cum[j] - cum[cut[HOUR]],
            amount_24h=cum[j] - cum[cut[DAY]],
            amount_7d=cum[j] - cum[cut[7 * DAY]],
            amount_30d=cum[j] - cum[cut[30 * DAY]],
            squares_30d=subject.squares[j] - subject.squares[cut[30 * DAY]],
            payer_count_1h=pj - pcut[HOUR],
            payer_amount_24h=payer.cum[pj] - payer.cum[pcut[DAY]],
            cp_counts=(
                cj - ccut[DAY],
                cj - ccut[7 * DAY],
                cj - ccut[30 * DAY],
                cj - ccut[30 * DAY + LABEL_SPAN],
            ),
            frauds=(
                _count_in(frauds, now, 7 * DAY + LABEL_SPAN),
                _count_in(frauds, now, 30 * DAY + LABEL_SPAN),
            ),
            delayed=tuple((dj - dcut[w], _count_in(frauds, delayed, w)) for w in _DELAYED),
            distinct=(
                len({o for o in subject.others[cut[HOUR] : j] if o is not None}),
                len({o for o in subject.others[cut[DAY] : j] if o is not None}),
            ),
            small_1h=subject.small[j] - subject.small[cut[HOUR]],
            below_24h=subject.below[j] - subject.below[cut[DAY]],
            cp_age=(
                _first_seen(t.first_counterparty, (obs.subject, obs.counterparty), now)
                if obs.counterparty
                else 0.0
            ),
            device_age=(
                _first_seen(t.first_device, (obs.subject, obs.device), now) if obs.device else 0.0
            ),
            prev_geo=prev_geo,
        )

    def rebuild(self, observations: Iterable[Observation]) -> int:
        count = 0
        for obs in observations:
            self.add(obs)
            count += 1
        return count


_SUBJECT_WINDOWS = (
    ("10m", 10 * MINUTE),
    ("1h", HOUR),
    ("24h", DAY),
    ("1d", DAY),
    ("7d", 7 * DAY),
    ("30d", 30 * DAY),
)


_SUBJECT_WIDTHS = tuple(sorted({width for _, width in _SUBJECT_WINDOWS}))
_DELAYED = (DAY, 7 * DAY, 30 * DAY)
_DELAYED_NAMES = ("1d", "7d", "30d")


def _flag_total(series: Series, prefix: list[int], now: float, width: float) -> int:
    i, j = series.span(now, width)
    return prefix[j] - prefix[i]


def _zscore(amount: int, total: int, squares: int, count: int) -> float:
    """(amount - mean) / standard deviation of the window's amounts; 0 below two amounts
    or when they are all equal. Variance from integer sums: exact, no cancellation."""
    if count < 2:
        return 0.0
    spread = count * squares - total * total  # count² × variance
    if spread <= 0:
        return 0.0
    return round((amount * count - total) / math.sqrt(spread), 4)


def _avg(total: int, count: int) -> float:
    return round(total / count, 3) if count else 0.0


def _assemble(
    obs: Observation,
    *,
    counts: Mapping[str, int],
    amount_1h: int,
    amount_24h: int,
    amount_7d: int,
    amount_30d: int,
    squares_30d: int,
    payer_count_1h: int,
    payer_amount_24h: int,
    cp_counts: tuple[int, int, int, int],
    frauds: tuple[int, int],
    delayed: tuple[tuple[int, int], ...],
    distinct: tuple[int, int],
    small_1h: int,
    below_24h: int,
    cp_age: float,
    device_age: float,
    prev_geo: tuple[float, float, float] | None,
) -> dict[str, float]:
    if obs.timezone:
        local = local_time(obs)
        hour, weekday = local.hour, local.weekday()
    else:  # UTC: plain arithmetic (1970-01-01 was a Thursday, weekday 3)
        hour, weekday = int(obs.at // HOUR % 24), int((obs.at // DAY + 3) % 7)
    round_amount, below = amount_patterns(obs.amount_minor)
    avg_30d = _avg(amount_30d, counts["30d"])
    mismatch = int(
        obs.country is not None and obs.ip_country is not None and obs.country != obs.ip_country
    )
    return {
        "amount_minor": float(obs.amount_minor),
        "subject_count_10m": counts["10m"],
        "subject_count_1h": counts["1h"],
        "subject_count_24h": counts["24h"],
        "subject_count_7d": counts["7d"],
        "subject_count_30d": counts["30d"],
        "subject_amount_1h": amount_1h,
        "subject_amount_24h": amount_24h,
        "subject_avg_amount_1d": _avg(amount_24h, counts["1d"]),
        "subject_avg_amount_7d": _avg(amount_7d, counts["7d"]),
        "subject_avg_amount_30d": avg_30d,
        "amount_to_avg_30d": round(obs.amount_minor / avg_30d, 4) if avg_30d else 0.0,
        "amount_zscore_30d": _zscore(obs.amount_minor, amount_30d, squares_30d, counts["30d"]),
        "payer_count_1h": payer_count_1h,
        "payer_amount_24h": payer_amount_24h,
        "counterparty_count_1d": cp_counts[0],
        "counterparty_count_7d": cp_counts[1],
        "counterparty_count_30d": cp_counts[2],
        "counterparty_fraud_14d": frauds[0],
        "counterparty_fraud_37d": frauds[1],
        "counterparty_fraud_rate_37d": round(frauds[1] / cp_counts[3], 4) if cp_counts[3] else 0.0,
        **{
            f"counterparty_delayed_count_{name}": count
            for name, (count, _) in zip(_DELAYED_NAMES, delayed, strict=True)
        },
        **{
            f"counterparty_risk_{name}": round(bad / count, 4) if count else 0.0
            for name, (count, bad) in zip(_DELAYED_NAMES, delayed, strict=True)
        },
        "distinct_counterparties_1h": distinct[0],
        "distinct_counterparties_24h": distinct[1],
        "small_count_1h": small_1h,
        "below_threshold_count_24h": below_24h,
        "counterparty_age_seconds": cp_age,
        "device_age_seconds": device_age,
        "country_mismatch": mismatch,
        "travel_speed_kmh": travel_speed(prev_geo, obs),
        "hour_of_day": hour,
        "night": int(hour in NIGHT_HOURS),
        "weekend": int(weekday >= 5),
        "round_amount": round_amount,
        "below_threshold": below,
    }


def recompute(
    history: Iterable[Observation], obs: Observation, frauds: Iterable[tuple[str, float]] = ()
) -> dict[str, float]:
    """The features of `obs` by brute force over `history` (the statement the book keeps)."""
    now = obs.at
    mine = [h for h in history if h.tenant_id == obs.tenant_id and h.at <= now]
    subject = [h for h in mine if h.subject == obs.subject]
    payer_key = obs.payer or obs.subject
    payer = [h for h in mine if (h.payer or h.subject) == payer_key]
    cp = [h for h in mine if obs.counterparty is not None and h.counterparty == obs.counterparty]
    labels = [at for c, at in frauds if obs.counterparty is not None and c == obs.counterparty]

    def within(rows: list[Observation], width: float) -> list[Observation]:
        return [h for h in rows if now - width < h.at]

    counts = {w: len(within(subject, width)) for w, width in _SUBJECT_WINDOWS}
    cp_first = [
        h.at for h in subject if obs.counterparty is not None and h.counterparty == obs.counterparty
    ]
    dev_first = [h.at for h in subject if obs.device is not None and h.device == obs.device]
    geos = sorted((h.at, h.lat, h.lon) for h in subject if h.lat is not None and h.lon is not None)
    prev_geo = geos[-1] if geos else None
    return _assemble(
        obs,
        counts=counts,
        amount_1h=sum(h.amount_minor for h in within(subject, HOUR)),
        amount_24h=sum(h.amount_minor for h in within(subject, DAY)),
        amount_7d=sum(h.amount_minor for h in within(subject, 7 * DAY)),
        amount_30d=sum(h.amount_minor for h in within(subject, 30 * DAY)),
        squares_30d=sum(h.amount_minor**2 for h in within(subject, 30 * DAY)),
        payer_count_1h=len(within(payer, HOUR)),
        payer_amount_24h=sum(h.amount_minor for h in within(payer, DAY)),
        cp_counts=(
            len(within(cp, DAY)),
            len(within(cp, 7 * DAY)),
            len(within(cp, 30 * DAY)),
            len(within(cp, 30 * DAY + LABEL_SPAN)),
        ),
        frauds=(
            sum(1 for at in labels if now - 7 * DAY - LABEL_SPAN < at <= now),
            sum(1 for at in labels if now - 30 * DAY - LABEL_SPAN < at <= now),
        ),
        delayed=tuple(
            (
                sum(1 for h in cp if now - LABEL_SPAN - w < h.at <= now - LABEL_SPAN),
                sum(1 for at in labels if now - LABEL_SPAN - w < at <= now - LABEL_SPAN),
            )
            for w in _DELAYED
        ),
        distinct=(
            len({h.counterparty for h in within(subject, HOUR) if h.counterparty is not None}),
            len({h.counterparty for h in within(subject, DAY) if h.counterparty is not None}),
        ),
        small_1h=sum(1 for h in within(subject, HOUR) if _is_small(h.amount_minor)),
        below_24h=sum(1 for h in within(subject, DAY) if _is_below(h.amount_minor)),
        cp_age=round(now - min(cp_first), 3) if cp_first else 0.0,
        device_age=round(now - min(dev_first), 3) if dev_first else 0.0,
        prev_geo=(prev_geo[0], float(prev_geo[1]), float(prev_geo[2])) if prev_geo else None,
    )
