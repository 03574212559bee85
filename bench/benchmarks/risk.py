"""Risk: model quality under prequential validation beside the handbook's XGBoost baseline,
`paygod risk train` time on 100k transactions, and what scoring adds to a sealed decision.
"""

from __future__ import annotations

import os
import resource
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from bench.harness import Figure, benchmark, percentile
from paygod.risk.dataset import DatasetSpec, generate
from paygod.risk.training import feature_matrix, fit_models, metrics, time_split

# Le Borgne et al., Reproducible ML for Credit Card Fraud Detection, chapter "Model
# selection": XGBoost under prequential validation on the simulated data set.
HANDBOOK_XGBOOST = {"roc_auc": 0.869, "average_precision": 0.687, "cp_at_100": 0.303}


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


@benchmark("risk.models")
def model_quality() -> Iterator[Figure]:
    """The handbook's set-up: 5000 customers, 10000 terminals, its three scenarios only;
    train 7 days, feedback delay 7 days, test 7 days, folds a week apart (prequential)."""
    days = int(os.environ.get("PAYGOD_BENCH_RISK_DAYS", "35"))
    spec = DatasetSpec(customers=5000, terminals=10000, days=days, seed=1, patterns="handbook")
    data = generate(spec)
    x = feature_matrix(data)
    folds: list[dict[str, float]] = []
    for start in range(7, days - 20, 7):
        split = time_split(data, train_days=7, test_days=7, start_day=start)
        if split.test.size == 0:
            break
        models = fit_models(x[split.train], data.fraud[split.train], 1)
        scores = models["fraud"].predict_proba(x[split.test])[:, 1]
        folds.append(metrics(data, split.test, scores))
    for name, published in HANDBOOK_XGBOOST.items():
        values = [f[name] for f in folds]
        yield Figure(
            f"risk.models.{name}",
            float(np.mean(values)),
            "score",
            published,
            "handbook XGBoost (published)",
            {"folds": values, "transactions": len(data), "fraud_rate": float(data.fraud.mean())},
        )


@benchmark("risk.train")
def train_time() -> Iterator[Figure]:
    """`paygod risk train --transactions 100000` end to end, wall and CPU seconds."""
    import subprocess
    import sys

    home = Path(tempfile.mkdtemp(prefix="paygod-bench-risk-"))
    env = {**os.environ, "PAYGOD_HOME": str(home)}
    env.pop("PAYGOD_DATABASE_URL", None)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "paygod", "risk", "train", "--transactions", "100000", "--json"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    import orjson

    registered = orjson.loads(done.stdout)
    yield Figure(
        "risk.train.100k_seconds",
        wall,
        "s",
        60.0,
        "target (one minute)",
        {
            "cpu_seconds": round(cpu, 2),
            "load_average": os.getloadavg()[0],
            "transactions": registered["training_data"]["transactions"],
            "metrics": registered["metrics"]["fraud"],
        },
    )


def _kernel(home: Path) -> Any:
    from paygod.bootstrap import build_kernel
    from paygod.kernel.settings import load_settings

    return build_kernel(load_settings(home=home, database_url=None, redis_url=None))


def _request(i: int) -> dict[str, Any]:
    return {
        "subject": f"account:{i % 500}",
        "context": {
            "device_ref": f"urn:device:{i % 700}",
            "country": "FR",
            "ip_country": "FR" if i % 9 else "DE",
            "geo": {"lat": 48.0 + (i % 7) / 10, "lon": 2.0 + (i % 5) / 10},
            "timezone": "Europe/Paris",
        },
        "input": {
            "payment": {
                "amount_minor": 500 + (i * 7919) % 400_000,
                "currency": "EUR",
                "rail": "sepa",
                "counterparty": {"ref": f"urn:merchant:{i % 1500}", "verified": True},
            }
        },
    }


@benchmark("risk.scoring")
def scoring_overhead() -> Iterator[Figure]:
    """Sealed decisions/s on SQLite with and without risk scoring, same run, same requests;
    windows warmed with 20k observations and a trained model active."""
    from paygod.risk.dataset import DatasetSpec as Spec
    from paygod.risk.training import train

    n = int(os.environ.get("PAYGOD_BENCH_RISK_DECISIONS", "2000"))
    artefact, meta = train(Spec.for_transactions(20_000))
    homes = [Path(tempfile.mkdtemp(prefix="paygod-bench-risk-")) for _ in range(2)]
    plain, scored = _kernel(homes[0]), _kernel(homes[1])
    try:
        scored.risk.register(artefact, meta)
        plain.decisions.risk = None
        for i in range(20_000):  # warm windows: what a busy tenant's book holds
            part = scored.risk.assess_request(tenant_id="default", **_warm(i, scored))
            if part is not None:
                scored.risk.committed(part)
        assess_ms: list[float] = []
        assess_cpu_ms: list[float] = []
        for i in range(2000):
            started, cpu = time.perf_counter(), time.thread_time()
            part = scored.risk.assess_request(tenant_id="default", **_warm(i, scored))
            assess_cpu_ms.append((time.thread_time() - cpu) * 1000)
            assess_ms.append((time.perf_counter() - started) * 1000)
        latencies: dict[str, list[float]] = {"plain": [], "scored": []}
        cpu_ms: dict[str, list[float]] = {"plain": [], "scored": []}
        for i in range(n):  # interleaved, so both see the same machine load
            for name, kernel in (("plain", plain), ("scored", scored)):
                started, cpu = time.perf_counter(), time.process_time()
                kernel.decisions.decide(**_request(i), tenant_id="default", receipt=False)
                cpu_ms[name].append((time.process_time() - cpu) * 1000)
                latencies[name].append((time.perf_counter() - started) * 1000)
    finally:
        plain.close()
        scored.close()
    rates = {k: len(v) / (sum(v) / 1000) for k, v in latencies.items()}
    p99 = {k: percentile(v, 99) for k, v in latencies.items()}
    yield Figure(
        "risk.scoring.sealed_decisions_per_s",
        rates["scored"],
        "decisions/s",
        rates["plain"],
        "sealed decisions/s without risk scoring",
        {
            "p99_ms": round(p99["scored"], 3),
            "baseline_p99_ms": round(p99["plain"], 3),
            "cpu_ms_per_decision": round(sum(cpu_ms["scored"]) / n, 3),
            "baseline_cpu_ms_per_decision": round(sum(cpu_ms["plain"]) / n, 3),
            "load_average": os.getloadavg()[0],
        },
    )
    yield Figure(
        "risk.scoring.added_p99_ms",
        p99["scored"] - p99["plain"],
        "ms",
        2.0,
        "target (2 ms)",
        {
            "assess_p50_ms": round(percentile(assess_ms, 50), 3),
            "assess_p99_ms": round(percentile(assess_ms, 99), 3),
            "assess_cpu_p50_ms": round(percentile(assess_cpu_ms, 50), 3),
            "assess_cpu_p99_ms": round(percentile(assess_cpu_ms, 99), 3),
            "added_cpu_p99_ms": round(
                percentile(cpu_ms["scored"], 99) - percentile(cpu_ms["plain"], 99), 3
            ),
        },
    )


def _warm(i: int, kernel: Any) -> dict[str, Any]:
    from datetime import timedelta

    request = _request(i)
    return {
        "subject": request["subject"],
        "input_doc": request["input"],
        "context": request["context"],
        "now": kernel.clock.now() - timedelta(seconds=(20_000 - i) * 30),
    }
