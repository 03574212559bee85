"""Business counts kept in this process for /metrics: decisions by verdict and pack,
payment transitions by state and rail, rail calls by outcome with their latency.

Plain dicts under one lock (a few hundred nanoseconds a count), read by the API's
collector at scrape time; domain code records here without knowing Prometheus. Counts
are per process and start at zero with it, as Prometheus counters do.
"""

from __future__ import annotations

import threading
from bisect import bisect_left
from collections import Counter

# Upper bounds (seconds) of the rail latency histogram's buckets; +Inf is implied.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

_lock = threading.Lock()
decisions: Counter[tuple[str, str]] = Counter()
payments: Counter[tuple[str, str]] = Counter()
rail_calls: Counter[tuple[str, str]] = Counter()
# rail -> (per-bucket counts incl. +Inf, sum of seconds)
rail_latency: dict[str, tuple[list[int], float]] = {}


def decided(verdict: str, pack: str) -> None:
    with _lock:
        decisions[(verdict, pack)] += 1


def payment_moved(state: str, rail: str | None) -> None:
    with _lock:
        payments[(state, rail or "")] += 1


def rail_called(rail: str, outcome: str, seconds: float) -> None:
    """`outcome`: success | unavailable | refused."""
    with _lock:
        rail_calls[(rail, outcome)] += 1
        buckets, total = rail_latency.get(rail) or ([0] * (len(LATENCY_BUCKETS) + 1), 0.0)
        buckets[bisect_left(LATENCY_BUCKETS, seconds)] += 1
        rail_latency[rail] = (buckets, total + seconds)


def snapshot() -> dict[str, object]:
    with _lock:
        return {
            "decisions": dict(decisions),
            "payments": dict(payments),
            "rail_calls": dict(rail_calls),
            "rail_latency": {k: (list(b), t) for k, (b, t) in rail_latency.items()},
        }
