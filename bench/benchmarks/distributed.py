"""Distributed mode: sealed decisions/s and transfers/s with 1, 2 and 4 API processes on
PostgreSQL (one executor worker, the NATS relay running), 64 clients over loopback.

Baselines from the same run: the 1-process figure is printed beside GET /healthz of the same
deployment; the 2- and 4-process figures beside the 1-process figure, so their ratio is the
scaling ratio. The load generator shares the machine's cores with the cluster (2 on these
machines): more API processes than cores compete with it, which the ratio shows honestly.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

from bench.cluster_load import Deployment, deployment, drive
from bench.harness import Figure, benchmark
from bench.loadgen import Connection

CLIENTS = 64
SECONDS = 6.0
PROCESSES = (1, 2, 4)


async def healthz_per_s(target: Deployment, seconds: float = 3.0) -> float:
    done = 0
    deadline = time.monotonic() + seconds

    async def loop() -> None:
        nonlocal done
        connection = Connection(target.base_url)
        try:
            while time.monotonic() < deadline:
                status, _ = await connection.request("GET", "/healthz")
                done += status == 200
        finally:
            connection.close()

    started = time.monotonic()
    await asyncio.gather(*(loop() for _ in range(CLIENTS)))
    return done / (time.monotonic() - started)


@benchmark("distributed")
def distributed() -> Iterator[Figure]:
    one: dict[str, float] = {}
    for processes in PROCESSES:
        name = f"bench_{processes}p_{int(time.time())}"
        with deployment(name, api=processes, workers=1, relay=True) as target:
            health = asyncio.run(healthz_per_s(target)) if processes == 1 else 0.0
            for op, unit in (("decision", "sealed decisions/s"), ("transfer", "transfers/s")):
                outcome = asyncio.run(
                    drive(target, concurrency=CLIENTS, seconds=SECONDS, ops=(op,))
                )
                rate = outcome.rate(op)
                extra = {
                    "api_processes": processes,
                    "clients": CLIENTS,
                    "p50_ms": round(outcome.percentile(op, 0.50), 1),
                    "p95_ms": round(outcome.percentile(op, 0.95), 1),
                    "p99_ms": round(outcome.percentile(op, 0.99), 1),
                    "refused": outcome.refused[op],
                }
                if processes == 1:
                    one[op] = rate
                    yield Figure(
                        f"distributed_{op}s_1p", rate, unit, health, "GET /healthz/s", extra
                    )
                else:
                    yield Figure(
                        f"distributed_{op}s_{processes}p",
                        rate,
                        unit,
                        one[op],
                        f"{unit} with 1 process",
                        extra,
                    )
