"""The labelled synthetic transactions Paygod trains its models on, generated deterministically.

Modelled on the transaction simulator of *Reproducible Machine Learning for Credit Card
Fraud Detection — Practical Handbook* (Le Borgne, Siblini, Lebichot, Bontempi; chapter
"Transaction data simulator"): customer profiles (location on a 100×100 grid, mean and
spread of amounts, mean transactions a day), terminal profiles (location), each customer
using the terminals within radius 5, and its three fraud scenarios:

1. any amount above 220 is fraud;
2. each day two terminals are compromised: their transactions of the next 28 days are fraud;
3. each day three customers' cards are compromised: a third of their transactions of the
   next 14 days are fraud, with the amount multiplied by 5.

On top of them (`patterns="all"`), the documented payment patterns: card testing (a burst
of tiny amounts at distinct terminals), account takeover (a new device abroad, far away,
large amounts), mule rapid in-out (a received sum sent on within the hour to new
counterparties) and structuring (several amounts just under the reporting threshold).
The same seed gives the same transactions, bit for bit.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from paygod.risk.features import REPORTING_THRESHOLD, Observation

START = 1_735_689_600.0  # 2025-01-01T00:00:00Z: the first simulated day
SCENARIOS = ("genuine", "amount", "terminal", "card", "card_testing", "ato", "mule", "structuring")


@dataclass(frozen=True)
class DatasetSpec:
    customers: int = 1000
    terminals: int = 2000
    days: int = 50
    radius: float = 5.0
    seed: int = 1
    patterns: str = "all"  # "handbook": only the three scenarios of the handbook

    @classmethod
    def for_transactions(
        cls, transactions: int, *, seed: int = 1, patterns: str = "all"
    ) -> DatasetSpec:
        """A spec of about `transactions` transactions: the handbook's shape (2 terminals a
        customer, two transactions a customer a day on average), scaled by customers."""
        days = 50
        customers = max(50, transactions // (2 * days))
        return cls(customers, 2 * customers, days, seed=seed, patterns=patterns)


@dataclass
class Dataset:
    spec: DatasetSpec
    at: npt.NDArray[np.float64]
    customer: npt.NDArray[np.int64]
    terminal: npt.NDArray[np.int64]
    amount_minor: npt.NDArray[np.int64]
    fraud: npt.NDArray[np.int8]
    scenario: npt.NDArray[np.int8]
    device: npt.NDArray[np.int64]
    foreign: npt.NDArray[np.int8]
    lat: npt.NDArray[np.float64]
    lon: npt.NDArray[np.float64]

    def __len__(self) -> int:
        return int(self.at.shape[0])

    def digest(self) -> str:
        """sha256 of the transactions and their labels (the registry's training-data digest)."""
        parts = [
            self.at.tobytes(),
            self.customer.tobytes(),
            self.terminal.tobytes(),
            self.amount_minor.tobytes(),
            self.fraud.tobytes(),
            self.device.tobytes(),
            self.foreign.tobytes(),
        ]
        return "sha256:" + _sha(parts)

    def observation(self, i: int) -> Observation:
        foreign = bool(self.foreign[i])
        return Observation(
            tenant_id="synthetic",
            subject=f"card:{int(self.customer[i])}",
            at=float(self.at[i]),
            amount_minor=int(self.amount_minor[i]),
            counterparty=f"terminal:{int(self.terminal[i])}",
            device=f"device:{int(self.device[i])}",
            country="FR",
            ip_country="RU" if foreign else "FR",
            lat=float(self.lat[i]),
            lon=float(self.lon[i]),
        )


def _sha(parts: list[bytes]) -> str:
    import hashlib

    h = hashlib.sha256()
    for p in parts:
        h.update(len(p).to_bytes(8, "big"))
        h.update(p)
    return h.hexdigest()


def generate(spec: DatasetSpec) -> Dataset:
    rng = np.random.default_rng(spec.seed)
    n_c, n_t = spec.customers, spec.terminals
    cx, cy = rng.uniform(0, 100, n_c), rng.uniform(0, 100, n_c)
    mean_amount = rng.uniform(5, 100, n_c)
    std_amount = mean_amount / 2
    per_day = rng.uniform(0, 4, n_c)
    tx, ty = rng.uniform(0, 100, n_t), rng.uniform(0, 100, n_t)
    # Terminals within the radius of each customer (the handbook's available terminals).
    available: list[npt.NDArray[np.int64]] = []
    for c in range(n_c):
        near = np.flatnonzero((tx - cx[c]) ** 2 + (ty - cy[c]) ** 2 < spec.radius**2)
        available.append(near if near.size else np.array([int(rng.integers(n_t))]))

    counts = rng.poisson(np.tile(per_day, spec.days))  # day-major: day d, customer c
    total = int(counts.sum())
    day = np.repeat(np.repeat(np.arange(spec.days), n_c), counts.astype(np.int64))
    customer = np.repeat(np.tile(np.arange(n_c), spec.days), counts.astype(np.int64))
    seconds = rng.normal(86400 / 2, 20000, total)
    seconds = np.where((seconds > 0) & (seconds < 86400), seconds, rng.uniform(0, 86400, total))
    amount = rng.normal(mean_amount[customer], std_amount[customer])
    amount = np.where(amount < 0, rng.uniform(0, 2 * mean_amount[customer]), amount)
    pick = rng.random(total)
    terminal = np.array(
        [available[c][int(p * available[c].size)] for c, p in zip(customer, pick, strict=True)],
        dtype=np.int64,
    )
    fraud = np.zeros(total, dtype=np.int8)
    scenario = np.zeros(total, dtype=np.int8)
    at = START + day * 86400.0 + np.floor(seconds)

    # Scenario 1: amounts above 220.
    big = amount > 220
    fraud[big], scenario[big] = 1, 1
    # Scenario 2: two terminals a day, compromised for 28 days.
    for d in range(spec.days):
        for t in rng.choice(n_t, 2, replace=False):
            hit = (terminal == t) & (day >= d) & (day < d + 28) & (fraud == 0)
            fraud[hit], scenario[hit] = 1, 2
    # Scenario 3: three cards a day; a third of their next 14 days' transactions, amount × 5.
    for d in range(spec.days):
        for c in rng.choice(n_c, 3, replace=False):
            rows = np.flatnonzero((customer == c) & (day >= d) & (day < d + 14))
            if rows.size == 0:
                continue
            chosen = rng.choice(rows, max(1, rows.size // 3), replace=False)
            amount[chosen] *= 5
            fraud[chosen], scenario[chosen] = 1, 3

    amount_minor = np.maximum(np.round(amount * 100), 1).astype(np.int64)
    device = customer.copy()
    foreign = np.zeros(total, dtype=np.int8)
    lat, lon = 40.0 + ty[terminal] / 10, tx[terminal] / 10
    columns = [at, customer, terminal, amount_minor, fraud, scenario, device, foreign, lat, lon]
    if spec.patterns == "all":
        extra = _patterns(rng, spec, mean_amount, available)
        columns = [np.concatenate([a, b]) for a, b in zip(columns, extra, strict=True)]
    order = np.lexsort((columns[1], columns[0]))
    cols: list[Any] = [column[order] for column in columns]
    return Dataset(
        spec,
        cols[0].astype(np.float64),
        cols[1].astype(np.int64),
        cols[2].astype(np.int64),
        cols[3].astype(np.int64),
        cols[4].astype(np.int8),
        cols[5].astype(np.int8),
        cols[6].astype(np.int64),
        cols[7].astype(np.int8),
        cols[8].astype(np.float64),
        cols[9].astype(np.float64),
    )


def _patterns(
    rng: np.random.Generator,
    spec: DatasetSpec,
    mean_amount: npt.NDArray[np.float64],
    available: list[npt.NDArray[np.int64]],
) -> list[npt.NDArray[np.float64]]:
    """Card testing, account takeover, mule rapid in-out and structuring, a few a day."""
    rows: list[tuple[float, int, int, int, int, int, int, int, float, float]] = []
    n_c, n_t = spec.customers, spec.terminals
    next_device = n_c
    per_day = max(1, n_c // 500)
    for d in range(spec.days):
        base = START + d * 86400.0
        for _ in range(per_day):
            # Card testing: 6-14 probes of 0.50-4.99 at distinct terminals within 10 minutes.
            c, t0 = int(rng.integers(n_c)), base + float(rng.uniform(0, 86000))
            for k, term in enumerate(rng.choice(n_t, int(rng.integers(6, 15)), replace=False)):
                amt = int(rng.integers(50, 500))
                rows.append((t0 + k * 40, c, int(term), amt, 1, 4, c, 0, 45.0, 5.0))
            # Account takeover: a new device from abroad, far away, 3-8× the usual amount.
            c, t0 = int(rng.integers(n_c)), base + float(rng.uniform(0, 86000))
            next_device += 1
            for k in range(int(rng.integers(1, 4))):
                amt = int(mean_amount[c] * 100 * rng.uniform(3, 8))
                term = int(available[c][int(rng.integers(available[c].size))])
                rows.append((t0 + k * 600, c, term, amt, 1, 5, next_device, 1, 60.0, 100.0))
            # Mule rapid in-out: the received sum sent on in 3-6 near-equal parts within an hour.
            c, t0 = int(rng.integers(n_c)), base + float(rng.uniform(0, 80000))
            parts = int(rng.integers(3, 7))
            each = int(rng.integers(200_000, 800_000)) // parts
            for k, term in enumerate(rng.choice(n_t, parts, replace=False)):
                rows.append((t0 + k * 300, c, int(term), each, 1, 6, c, 0, 45.0, 5.0))
            # Structuring: 3-5 amounts just under the reporting threshold within a day.
            c, t0 = int(rng.integers(n_c)), base + float(rng.uniform(0, 50000))
            for k in range(int(rng.integers(3, 6))):
                amt = int(REPORTING_THRESHOLD * rng.uniform(0.91, 0.995))
                term = int(available[c][int(rng.integers(available[c].size))])
                rows.append((t0 + k * 5400, c, term, amt, 1, 7, c, 0, 45.0, 5.0))
    if not rows:
        return [np.zeros(0) for _ in range(10)]
    table = np.array(rows, dtype=np.float64)
    return [table[:, i] for i in range(10)]
