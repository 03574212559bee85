"""The benchmark harness: named benchmarks, one JSON line each.

`{"name", "value", "unit", "baseline", "ratio", ...}`. The machines are shared and
noisy, so an absolute figure means little alone; the ratio to a baseline measured
in the same run on the same machine is the number to compare across runs.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import orjson


@dataclass(frozen=True)
class Figure:
    name: str
    value: float
    unit: str
    baseline: float
    baseline_name: str
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def ratio(self) -> float:
        return self.value / self.baseline if self.baseline else float("inf")

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "value": round(self.value, 4),
            "unit": self.unit,
            "baseline": round(self.baseline, 4),
            "baseline_name": self.baseline_name,
            "ratio": round(self.ratio, 4),
            **self.extra,
        }


Benchmark = Callable[[], Iterator[Figure]]
REGISTRY: dict[str, Benchmark] = {}


def benchmark(name: str) -> Callable[[Benchmark], Benchmark]:
    def register(fn: Benchmark) -> Benchmark:
        REGISTRY[name] = fn
        return fn

    return register


def rate(fn: Callable[[], int], *, min_seconds: float = 1.0, repeats: int = 3) -> float:
    """Best-of-`repeats` operations per second; `fn` does a batch and returns how many ops."""
    best = 0.0
    for _ in range(repeats):
        done = 0
        started = time.perf_counter()
        while True:
            done += fn()
            elapsed = time.perf_counter() - started
            if elapsed >= min_seconds:
                break
        best = max(best, done / elapsed)
    return best


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    if not ordered:
        return 0.0
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def emit(figure: Figure) -> None:
    sys.stdout.write(orjson.dumps(figure.as_dict()).decode() + "\n")
    sys.stdout.flush()
