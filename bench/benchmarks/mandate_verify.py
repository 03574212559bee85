"""Mandates: what verifying a mandate at decision time adds to a sealed decision.

The same kernel (SQLite), the same requests, interleaved so both see the same load:
decisions without a mandate (the baseline) and the same decisions naming a mandate in
their context, whose measurement re-verifies the stored credential (the grantor's Ed25519
signature for a native grant; the root ES256 signature, disclosures and holder binding for
an AP2 credential), checks the constraints and reads the allowance. Target: <= 5 ms p99.
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bench.harness import Figure, benchmark, percentile


def _request(i: int, mandate_id: str | None, agent: str) -> dict[str, Any]:
    context: dict[str, Any] = {"channel": "bench"}
    if mandate_id is not None:
        context["mandate"] = {"mandate_id": mandate_id, "merchant": "merchant_1", "rail": "ach"}
    return {
        "subject": f"account:{i % 500}",
        "context": context,
        "input": {
            "payment": {
                "amount_minor": 500 + (i * 7919) % 4_000,
                "currency": "USD",
                "rail": "ach",
                "counterparty": {"ref": f"urn:merchant:{i % 1500}", "verified": True},
            }
        },
        "requested_by": agent,
    }


def _mandates(kernel: Any) -> tuple[str, str, str]:
    from paygod.identity.model import PrincipalKind
    from tests.support.mandates import chain, grant, open_payment_mandate, party

    human = party(kernel, "bench-human", PrincipalKind.HUMAN, key="p256")
    agent = party(kernel, "bench-agent", PrincipalKind.AGENT, key="p256")
    native = grant(kernel, human, agent, {"currency": "USD", "budget": "1000000.00"})
    opened = open_payment_mandate(agent.jwk, max_minor=5_000, budget=100_000_000)
    imported = kernel.mandates.service.import_ap2(
        "default",
        chain(human, None, opened),
        audience=None,
        nonce=None,
        grantee=None,
        actor="bench",
    )
    return agent.principal_id, native.mandate_id, imported.mandate_id


@benchmark("mandate_verify")
def mandate_overhead() -> Iterator[Figure]:
    from paygod.bootstrap import build_kernel
    from paygod.kernel.settings import load_settings

    n = int(os.environ.get("PAYGOD_BENCH_MANDATE_DECISIONS", "1500"))
    home = Path(tempfile.mkdtemp(prefix="paygod-bench-mandate-"))
    kernel = build_kernel(load_settings(home=home, database_url=None, redis_url=None))
    latencies: dict[str, list[float]] = {"plain": [], "native": [], "ap2": []}
    cpu: dict[str, list[float]] = {"plain": [], "native": [], "ap2": []}
    try:
        agent, native, imported = _mandates(kernel)
        kinds = {"plain": None, "native": native, "ap2": imported}
        for i in range(n):
            for name, mandate_id in kinds.items():
                started, used = time.perf_counter(), time.process_time()
                result = kernel.decisions.decide(
                    **_request(i, mandate_id, agent), tenant_id="default", receipt=False
                )
                cpu[name].append((time.process_time() - used) * 1000)
                latencies[name].append((time.perf_counter() - started) * 1000)
                if mandate_id is not None and i == 0:
                    measured = {m["name"]: m["value"] for m in result["measurements"]}
                    assert measured["mandate.valid"] is True, measured
    finally:
        kernel.close()
    p99 = {k: percentile(v, 99) for k, v in latencies.items()}
    p50 = {k: percentile(v, 50) for k, v in latencies.items()}
    for name in ("native", "ap2"):
        yield Figure(
            f"mandate_verify.{name}.p99_ms",
            p99[name],
            "ms",
            p99["plain"],
            "p99 of the same sealed decisions without a mandate",
            {
                "p50_ms": round(p50[name], 3),
                "baseline_p50_ms": round(p50["plain"], 3),
                "decisions": n,
                "load_average": os.getloadavg()[0],
            },
        )
        yield Figure(
            f"mandate_verify.{name}.added_p99_ms",
            p99[name] - p99["plain"],
            "ms",
            5.0,
            "target (5 ms)",
            {
                "added_p50_ms": round(p50[name] - p50["plain"], 3),
                # CPU time is steadier than wall time on a shared machine.
                "added_cpu_mean_ms": round(
                    (sum(cpu[name]) - sum(cpu["plain"])) / len(cpu["plain"]), 3
                ),
            },
        )
