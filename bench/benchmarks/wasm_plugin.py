"""A WASM plug-in measurement call (fresh sandbox per call: store, instance, fuel, epoch
deadline, JSON in and out) against the same measurement as a compiled pack term
(`when: input.payment.amount_minor > 100000, weight: 30`), same run. Target: <= 50 us p50."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

from bench.harness import Figure, benchmark, percentile

PLUGIN = Path(__file__).resolve().parents[2] / "tests/unit/decisions/plugins/threshold.wat"


@benchmark("wasm_plugin")
def wasm_plugin() -> Iterator[Figure]:
    import wasmtime

    from paygod.decisions.conditions import compile_condition
    from paygod.decisions.pack_measures import PackMeasure, Term
    from paygod.decisions.wasm import Plugin

    plugin = Plugin(bytes(wasmtime.wat2wasm(PLUGIN.read_text())), name="threshold")
    term = Term(compile_condition("input.payment.amount_minor > 100000"), None, 30, None, None)
    compiled = PackMeasure("score", "score", 0, (term,))
    docs = [
        {"input": {"payment": {"amount_minor": 50_000 + 1_000 * i}}, "measure": {}}
        for i in range(200)
    ]
    for doc in docs:  # the same answers, or the comparison means nothing
        assert plugin.measure(doc) == compiled.compute(dict(doc))["value"]

    def timings(call: object) -> list[float]:
        found = []
        for _ in range(10):
            for doc in docs:
                started = time.perf_counter()
                call(doc)  # type: ignore[operator]
                found.append((time.perf_counter() - started) * 1e6)
        return found

    plugin_us = timings(plugin.measure)
    compiled_us = timings(lambda doc: compiled.compute(dict(doc)))
    yield Figure(
        "wasm_plugin.call_p50_us",
        percentile(plugin_us, 50),
        "us",
        percentile(compiled_us, 50),
        "the same measurement as a compiled pack term, p50 us",
        {
            "calls": len(plugin_us),
            "p99_us": round(percentile(plugin_us, 99), 2),
            "target_p50_us": 50,
        },
    )
