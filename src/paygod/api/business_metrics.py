"""Business metrics read at scrape time: decisions by verdict and pack, payment
transitions by state and rail, rail calls by outcome (and their success ratio), rail
latency as a histogram, and every circuit breaker's state.

The counts come from `paygod.kernel.observations` (kept by this process since it started);
breaker states are read from the kernel's breaker board when Prometheus asks.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

from paygod.kernel import observations

BREAKER_STATES = ("closed", "half_open", "open")


class BusinessCollector(Collector):
    def __init__(self, kernel_of: Callable[[], Any]) -> None:
        self.kernel_of = kernel_of

    def collect(self) -> Iterator[Metric]:
        seen = observations.snapshot()
        decisions = CounterMetricFamily(
            "paygod_decisions",
            "Sealed decisions by verdict and deciding pack",
            labels=["verdict", "pack"],
        )
        for (verdict, pack), count in sorted(seen["decisions"].items()):  # type: ignore[attr-defined]
            decisions.add_metric([verdict, pack], count)
        yield decisions
        payments = CounterMetricFamily(
            "paygod_payment_transitions",
            "Payment transitions recorded, by the state entered and the rail",
            labels=["state", "rail"],
        )
        for (state, rail), count in sorted(seen["payments"].items()):  # type: ignore[attr-defined]
            payments.add_metric([state, rail], count)
        yield payments
        calls = CounterMetricFamily(
            "paygod_rail_calls", "Rail calls by outcome", labels=["rail", "outcome"]
        )
        totals: dict[str, list[int]] = {}
        for (rail, outcome), count in sorted(seen["rail_calls"].items()):  # type: ignore[attr-defined]
            calls.add_metric([rail, outcome], count)
            pair = totals.setdefault(rail, [0, 0])
            pair[1] += count
            if outcome == "success":
                pair[0] += count
        yield calls
        ratio = GaugeMetricFamily(
            "paygod_rail_success_ratio",
            "Share of this process's rail calls that succeeded, per rail",
            labels=["rail"],
        )
        for rail, (ok, total) in sorted(totals.items()):
            ratio.add_metric([rail], ok / total if total else 0.0)
        yield ratio
        latency = HistogramMetricFamily(
            "paygod_rail_call_seconds", "Rail call latency", labels=["rail"]
        )
        for rail, (buckets, total_seconds) in sorted(seen["rail_latency"].items()):  # type: ignore[attr-defined]
            cumulative, running = [], 0
            for bound, count in zip(
                [*map(str, observations.LATENCY_BUCKETS), "+Inf"], buckets, strict=True
            ):
                running += count
                cumulative.append((bound, running))
            latency.add_metric([rail], cumulative, total_seconds)
        yield latency
        yield from self._breakers()

    def _breakers(self) -> Iterator[Metric]:
        kernel = self.kernel_of()
        board = getattr(getattr(kernel, "payments", None), "breakers", None)
        family = GaugeMetricFamily(
            "paygod_breaker_state",
            "1 for each circuit breaker's current state (closed, half_open, open)",
            labels=["breaker", "state"],
        )
        if board is not None:
            for snapshot in board.snapshots():
                for state in BREAKER_STATES:
                    family.add_metric([snapshot.name, state], 1 if snapshot.state == state else 0)
        yield family
