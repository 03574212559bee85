"""Continuous authentication: equal error rates on the shipped SYNTHETIC keystroke set
(Killourhy & Maxion's protocol) beside the scaled-Manhattan detector measured in the same
run, how many events an impostor needs to be stepped up and ended, and what scoring a
signal batch costs beside sealing an entry of the same size alone.

`PAYGOD_BENCH_CONTAUTH_DATA` may name another CMU-layout file (the real
DSL-StrongPasswordData.csv, where K&M report 0.096 for scaled Manhattan).
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

from bench.harness import Figure, benchmark, percentile
from paygod.contauth import cmu, evaluation, registry, synthetic
from paygod.contauth.service import ContauthService
from paygod.contauth.stores.memory import MemoryContauthStore
from paygod.kernel.clock import ManualClock
from paygod.ledger import EntryDraft, LedgerService
from paygod.ledger.stores.memory import MemoryLedgerStore

KM_2009_SCALED_MANHATTAN = 0.0962  # on the real CMU set (DSN 2009, table 2)


def _rows() -> list[cmu.Typing]:
    path = os.environ.get("PAYGOD_BENCH_CONTAUTH_DATA")
    return cmu.read(Path(path)) if path else cmu.read(synthetic.SHIPPED)


@benchmark("contauth.eer")
def equal_error_rates() -> Iterator[Figure]:
    rows = _rows()
    baseline = evaluation.evaluate(rows, "scaled_manhattan")
    for detector in ("isolation_forest", "random_forest"):
        found = evaluation.evaluate(rows, detector)
        yield Figure(
            f"contauth.eer.{detector}", found.eer_mean, "EER", baseline.eer_mean,
            "scaled Manhattan (K&M 2009), same run",
            {"eer_std": round(found.eer_std, 4), "subjects": found.subjects,
             "km_2009_scaled_manhattan_on_real_cmu": KM_2009_SCALED_MANHATTAN,
             "data": "synthetic" if "PAYGOD_BENCH_CONTAUTH_DATA" not in os.environ else "file"},
        )  # fmt: skip


def _service() -> ContauthService:
    clock = ManualClock(datetime(2026, 12, 7, 12, tzinfo=UTC))
    return ContauthService(LedgerService(MemoryLedgerStore(), clock), MemoryContauthStore(), clock)


@benchmark("contauth.impostor")
def impostor_events() -> Iterator[Figure]:
    """Each subject's model (sessions 1-2) against every other subject's later typing."""
    rows = _rows()
    service = _service()
    subjects = sorted({r.subject for r in rows})
    to_step_up: list[int] = []
    to_end: list[int] = []
    genuine_step_ups = 0
    for subject in subjects:
        data = registry.from_file([r for r in rows if r.session <= 2], subject)
        artefact, meta = registry.train(data)
        service.registry.register("acme", subject, artefact, meta, actor="bench")
        for typist in subjects:
            sid = f"{subject}-{typist}"
            service.open_session("acme", subject, sid, service.clock.now() + timedelta(hours=1))
            later = [r.as_features() for r in rows if r.subject == typist and r.session >= 3]
            states = []
            for sample in later[:20]:
                states.append(
                    service.record("acme", subject, sid, {"keystrokes": [sample]})["state"]
                )
                if states[-1] == "ended":
                    break
            stepped = next((i + 1 for i, s in enumerate(states) if s != "active"), None)
            if typist == subject:
                genuine_step_ups += stepped is not None
            else:
                to_step_up.append(stepped or 99)
                to_end.append(len(states) if states[-1] == "ended" else 99)
    sessions = len(subjects)
    yield Figure(
        "contauth.impostor.events_to_step_up_p90", percentile([float(x) for x in to_step_up], 90),
        "events", percentile([float(x) for x in to_end], 90), "events to end the session (p90)",
        {"median": float(np.median(to_step_up)), "impostor_sessions": len(to_step_up),
         "genuine_sessions_stepped_up": f"{genuine_step_ups}/{sessions} (20 events each)"},
    )  # fmt: skip


@benchmark("contauth.latency")
def batch_latency() -> Iterator[Figure]:
    """Scoring and sealing one signal batch (one keystroke sample, RandomForest) beside
    sealing an entry of the same size alone, same memory ledger, same run."""
    rows = _rows()
    service = _service()
    artefact, meta = registry.train(registry.from_file([r for r in rows if r.session <= 2], "s001"))
    service.registry.register("acme", "s001", artefact, meta, actor="bench")
    sample = rows[-1].as_features()
    scored: list[float] = []
    sealed: list[float] = []
    for i in range(200):
        sid = f"lat-{i}"
        service.open_session("acme", "s001", sid, service.clock.now() + timedelta(hours=1))
        started = time.perf_counter()
        service.record("acme", "s001", sid, {"keystrokes": [sample]})
        scored.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        service.ledger.append(EntryDraft("bench.same_size", f"urn:bench:{i}", {"features": sample}))
        sealed.append((time.perf_counter() - started) * 1000)
    yield Figure(
        "contauth.batch_p99_ms", percentile(scored, 99), "ms", percentile(sealed, 99),
        "sealing a same-size entry alone (p99)",
        {"p50_ms": round(percentile(scored, 50), 3)},
    )  # fmt: skip
