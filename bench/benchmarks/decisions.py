"""Decisions: compiled pack evaluation vs CEL; sealed decisions over HTTP vs /healthz."""

from __future__ import annotations

import asyncio
import os
import random
import resource
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.harness import Figure, benchmark, percentile, rate
from paygod.decisions.engine import first_match
from paygod.decisions.packs import compile_pack

RULES: list[tuple[str, str, str]] = [
    # (name, paygod/v1 condition, the same rule in CEL)
    ("non-positive", "input.payment.amount_minor <= 0", "input.payment.amount_minor <= 0"),
    (
        "unverified",
        "input.payment.counterparty.verified != true",
        "input.payment.counterparty.verified != true",
    ),
    ("velocity", "measure.velocity_1h >= 20", "measure.velocity_1h >= 20"),
    (
        "daily-volume",
        "measure.amount_24h + input.payment.amount_minor > 5000000",
        "measure.amount_24h + input.payment.amount_minor > 5000000",
    ),
    (
        "card-limit",
        "input.payment.rail == 'card' and input.payment.amount_minor > 500000",
        "input.payment.rail == 'card' && input.payment.amount_minor > 500000",
    ),
    (
        "bank-limit",
        "input.payment.rail in ['sepa', 'ach'] and input.payment.amount_minor > 1500000",
        "input.payment.rail in ['sepa', 'ach'] && input.payment.amount_minor > 1500000",
    ),
    (
        "currency",
        "input.payment.currency not in ['EUR', 'USD', 'GBP']",
        "!(input.payment.currency in ['EUR', 'USD', 'GBP'])",
    ),
    (
        "sanctioned-tag",
        "input.payment.tags.any(t => t == 'sanctioned')",
        "input.payment.tags.exists(t, t == 'sanctioned')",
    ),
    (
        "wire-review",
        "input.payment.rail == 'wire' and input.payment.amount_minor >= 1000000",
        "input.payment.rail == 'wire' && input.payment.amount_minor >= 1000000",
    ),
    ("allow", "input.payment.amount_minor > 0", "input.payment.amount_minor > 0"),
]

DECISIONS = ["deny"] * 8 + ["flag", "allow"]


def _pack_yaml() -> bytes:
    lines = [
        'api_version: "paygod/v1"',
        "kind: Pack",
        'metadata: {name: "bench-ten-rules", version: "1.0.0"}',
        "spec:",
        "  policy:",
        "    rules:",
    ]
    for (name, condition, _cel), decision in zip(RULES, DECISIONS, strict=True):
        lines.append(
            f'      - {{name: "{name}", condition: "{condition}", '
            f'decision: "{decision}", reason: "{name}"}}'
        )
    return ("\n".join(lines) + "\n").encode()


def _inputs() -> list[dict[str, Any]]:
    # Mostly clean payments: every rule is tried before the last one allows (worst case),
    # plus a few that stop early, as real traffic does.
    base = {
        "amount_minor": 12_500,
        "currency": "EUR",
        "rail": "sepa",
        "counterparty": {"ref": "urn:cp:1", "verified": True},
        "tags": ["agent", "invoice"],
    }
    variants = [dict(base, amount_minor=1000 + i * 37) for i in range(8)]
    variants.append(dict(base, rail="card", amount_minor=900_000))
    variants.append(dict(base, counterparty={"ref": "urn:cp:2", "verified": False}))
    return [{"payment": v} for v in variants]


MEASURES = {"velocity_1h": 3, "amount_24h": 40_000}


def cel_chain() -> str:
    """The rules as ONE CEL expression, first match as a chain of conditionals, the way a
    CEL user writes a rule list: `c1 ? 'deny' : c2 ? 'deny' : ... : 'unknown'`."""
    arms = [
        f"({cel_src}) ? '{decision}' : "
        for (_, _, cel_src), decision in zip(RULES, DECISIONS, strict=True)
    ]
    return "".join(arms) + "'unknown'"


@benchmark("decisions_eval")
def decisions_eval() -> Iterator[Figure]:
    import cel

    pack = compile_pack(_pack_yaml(), Path("bench-pack.yaml"))
    programs = [
        (cel.compile(cel_src), decision)
        for (_, _, cel_src), decision in zip(RULES, DECISIONS, strict=True)
    ]
    chain = cel.compile(cel_chain())
    inputs = _inputs()

    def ours() -> int:
        for doc in inputs:
            first_match(pack, {"input": doc, "measure": MEASURES})
        return len(inputs)

    def cel_per_rule() -> int:
        # One context conversion per input (a cel.Context converts its variables once and
        # reuses them), then the rules as ten programs tried in order.
        for doc in inputs:
            context = cel.Context({"input": doc, "measure": MEASURES})
            for program, _decision in programs:
                if program.execute(context):
                    break
        return len(inputs)

    def cel_one_expression() -> int:
        for doc in inputs:
            chain.execute({"input": doc, "measure": MEASURES})
        return len(inputs)

    # The three must agree before their speed means anything.
    for doc in inputs:
        verdict, _ = first_match(pack, {"input": doc, "measure": MEASURES})
        context = cel.Context({"input": doc, "measure": MEASURES})
        expected = next(d for p, d in programs if p.execute(context))
        assert verdict.value == expected, (doc, verdict, expected)
        assert chain.execute({"input": doc, "measure": MEASURES}) == expected, doc

    per_rule_rate = rate(cel_per_rule)
    chain_rate = rate(cel_one_expression)
    our_rate = rate(ours)
    yield Figure(
        "pack_10_rules_evaluations_per_s",
        our_rate,
        "evals/s",
        chain_rate,
        "same 10 rules as ONE CEL expression (c1 ? r1 : c2 ? r2 : ...), common-expression-language",
        {"target": 100_000},
    )
    yield Figure(
        "pack_10_rules_evaluations_per_s_vs_cel_per_rule",
        our_rate,
        "evals/s",
        per_rule_rate,
        "same 10 rules as ten CEL programs tried in order, one cel.Context per input",
    )


# -- end to end over HTTP ------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# API processes of the HTTP benchmark, one run each (`BENCH_SERVE_WORKERS`, default "1,2"):
# 1 is plain `paygod serve`; with `--workers 2` the standalone processes share the SQLite
# file, each with its own group commit, the write lock handed over between them
# (kernel/database.py), so the kernel uses both cores despite the GIL.
SERVER_PROCESSES = [int(n) for n in os.environ.get("BENCH_SERVE_WORKERS", "1,2").split(",")]


def _start(home: str, workers: int = 1) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    env = {
        **os.environ,
        "PAYGOD_HOME": home,
        "PAYGOD_LOG_LEVEL": "warning",
        "PAYGOD_DEV_MODE": "true",  # the clients use the dev key
        # Sealing throughput is measured, not the per-principal rate limiter: lift it.
        "PAYGOD_RATE_PRINCIPAL_PER_SECOND": "1000000",
        "PAYGOD_RATE_PRINCIPAL_BURST": "1000000",
        "PAYGOD_RATE_TENANT_PER_SECOND": "1000000",
        "PAYGOD_RATE_TENANT_BURST": "1000000",
    }
    env.pop("PAYGOD_CLOCK", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "paygod", "serve", "--port", str(port), "--workers", str(workers)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    import httpx

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(url + "/readyz", timeout=1).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            time.sleep(0.05)
    proc.kill()
    raise RuntimeError("server not ready")


@dataclass
class LoadRun:
    """One load phase: achieved rate, latencies, statuses >= 300, and CPU seconds spent by
    the server process and by this (load generator) process while it ran."""

    rate: float
    latencies: list[float]
    errors: dict[int, int]
    seconds: float
    server_cpu: float
    loadgen_cpu: float

    def percentile_ms(self, q: float) -> float:
        return round(percentile(self.latencies, q) * 1000, 2)

    def server_ms_per_request(self) -> float:
        return round(self.server_cpu / max(1, len(self.latencies)) * 1000, 3)

    def loadgen_cores(self) -> float:
        return round(self.loadgen_cpu / self.seconds, 2)


def _process_cpu(pid: int) -> float:
    """User + system CPU seconds of a process (all its threads) and of its live children
    (the worker processes of `serve --workers N`), from /proc."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    total = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        try:
            children = task.read_text().split()
        except OSError:
            continue
        total += sum(_process_cpu(int(child)) for child in children)
    return total


def _own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _load(
    url: str,
    path: str,
    body_for: Any,
    clients: int,
    seconds: float,
    headers: dict[str, str],
    *,
    server_pid: int,
    rate: float | None = None,
) -> LoadRun:
    server_before, own_before = _process_cpu(server_pid), _own_cpu()
    began = time.perf_counter()
    achieved, latencies, errors = asyncio.run(
        _drive(url, path, body_for, clients, seconds, headers, rate)
    )
    elapsed = time.perf_counter() - began
    return LoadRun(
        achieved,
        latencies,
        errors,
        elapsed,
        _process_cpu(server_pid) - server_before,
        _own_cpu() - own_before,
    )


async def _drive(
    url: str,
    path: str,
    body_for: Any,
    clients: int,
    seconds: float,
    headers: dict[str, str],
    rate: float | None,
) -> tuple[float, list[float], dict[int, int]]:
    """`clients` keep-alive HTTP/1.1 connections (bench.loadgen, raw asyncio streams).

    Without `rate` every client sends its next request as soon as the last one is answered
    (closed loop: the server's saturation throughput; by Little's law the mean latency is
    then clients / throughput, whatever the server does). With `rate` the requests are
    scheduled at that total rate, spread over the clients (open loop), and each latency is
    counted from the request's scheduled time, so a server that falls behind shows its
    queueing delay instead of hiding it (no coordinated omission).
    """
    import orjson

    from bench.loadgen import Connection

    latencies: list[float] = []
    errors: dict[int, int] = {}
    counter = 0
    began = time.perf_counter()
    stop = began + seconds

    async def worker(slot: int) -> None:
        nonlocal counter
        connection = Connection(url, headers)
        turn = 0
        try:
            while True:
                if rate is None:
                    started = time.perf_counter()
                    if started >= stop:
                        break
                else:
                    started = began + (slot + turn * clients) / rate
                    turn += 1
                    if started >= stop:
                        break
                    wait = started - time.perf_counter()
                    if wait > 0:
                        await asyncio.sleep(wait)
                counter += 1
                n = counter
                if body_for is None:
                    status, _ = await connection.request("GET", path)
                else:
                    status, _ = await connection.request(
                        "POST",
                        path,
                        orjson.dumps(body_for(n)),
                        {"Idempotency-Key": f"bench-{n}-{stop}"},
                    )
                latencies.append(time.perf_counter() - started)
                if status >= 300:
                    errors[status] = errors.get(status, 0) + 1
        finally:
            connection.close()

    await asyncio.gather(*(worker(slot) for slot in range(clients)))
    elapsed = time.perf_counter() - began
    return len(latencies) / elapsed, latencies, errors


def _decision_body(n: int) -> dict[str, Any]:
    return {
        "subject": f"urn:paygod:agent:{n % 500}",
        "context": {"channel": "bench"},
        "input": {
            "payment": {
                "amount_minor": 1000 + n % 5000,
                "currency": "EUR",
                "rail": "sepa",
                "counterparty": {"ref": f"urn:paygod:cp:{n % 50}", "verified": True},
            }
        },
        "packs": ["agent-payment-limits"],
    }


@benchmark("decisions_http")
def decisions_http() -> Iterator[Figure]:
    """Sealed decisions over HTTP (SQLite, standalone) vs GET /healthz, for 1 and 2 server
    processes; the figures of a run with N > 1 processes are named `..._N_processes`.

    Four phases against one server: GET /healthz (the HTTP stack's ceiling on this machine,
    and a check that the load generator is not the bottleneck: its own CPU is reported),
    an authenticated no-op read (what auth costs), then POST /v1/decisions closed loop
    (saturation throughput) and paced at a fixed rate (latency when not saturated).
    """
    for workers in SERVER_PROCESSES:
        yield from _decisions_http(workers)


def _decisions_http(workers: int) -> Iterator[Figure]:
    clients = int(os.environ.get("BENCH_CLIENTS", "64"))
    seconds = float(os.environ.get("BENCH_SECONDS", "10"))
    suffix = "" if workers == 1 else f"_{workers}_processes"
    with tempfile.TemporaryDirectory() as home:
        proc, url = _start(home, workers)
        headers = _credentials(home, url)
        pid = proc.pid
        try:
            health = _load(url, "/healthz", None, clients, 3, headers, server_pid=pid)
            # An authenticated no-op read: what identity (auth, rate limits) costs per request.
            authed = _load(url, "/v1/packs", None, clients, 3, headers, server_pid=pid)
            sealed = _load(url, "/v1/decisions", _decision_body, clients, seconds, headers,
                           server_pid=pid)  # fmt: skip
            # Latency below saturation: the target rate when the server sustains it, else
            # half of what it reached closed loop.
            target = 1000.0
            paced_rate = float(os.environ.get("BENCH_PACED_RATE", "0")) or (
                target if sealed.rate >= target else round(sealed.rate / 2, -1) or 10.0
            )
            paced = _load(url, "/v1/decisions", _decision_body, clients, seconds, headers,
                          server_pid=pid, rate=paced_rate)  # fmt: skip
        finally:
            proc.terminate()
            proc.wait(10)
    yield Figure(
        "sealed_decisions_per_s" + suffix,
        sealed.rate,
        "decisions/s",
        health.rate,
        "GET /healthz requests/s",
        {
            "clients": clients,
            "server_processes": workers,
            "seconds": seconds,
            "errors_by_status": sealed.errors,
            "p50_ms": sealed.percentile_ms(50),
            "p95_ms": sealed.percentile_ms(95),
            "p99_ms": sealed.percentile_ms(99),
            "server_cpu_ms_per_decision": sealed.server_ms_per_request(),
            "server_cpu_ms_per_healthz": health.server_ms_per_request(),
            "authenticated_get_v1_packs_per_s": round(authed.rate, 1),
            "server_cpu_ms_per_get_v1_packs": authed.server_ms_per_request(),
            "loadgen_cpu_cores_healthz": health.loadgen_cores(),
            "loadgen_cpu_cores_decisions": sealed.loadgen_cores(),
            "target_per_s": 1000,
            "target_p95_ms": 20,
        },
    )
    yield Figure(
        "sealed_decisions_paced_p95_ms" + suffix,
        paced.percentile_ms(95),
        "ms",
        sealed.percentile_ms(95),
        "p95 ms closed loop (saturated)",
        {
            "offered_per_s": paced_rate,
            "achieved_per_s": round(paced.rate, 1),
            "clients": clients,
            "server_processes": workers,
            "errors_by_status": paced.errors,
            "p50_ms": paced.percentile_ms(50),
            "p99_ms": paced.percentile_ms(99),
            "server_cpu_ms_per_decision": paced.server_ms_per_request(),
            "target_p95_ms": 20,
        },
    )


def _credentials(home: str, url: str) -> dict[str, str]:
    """Headers a benchmark client needs once identity requires them (none before)."""
    key_file = Path(home) / "dev-api-key"
    if key_file.is_file():
        return {"Authorization": f"Bearer {key_file.read_text().strip()}"}
    return {}


@benchmark("decisions_replay")
def decisions_replay() -> Iterator[Figure]:
    """Seal 10,000 mixed decisions (memory ledger), then replay every one of them."""
    from datetime import UTC, datetime

    from paygod.decisions.packs import PackRepository
    from paygod.decisions.service import DecisionService
    from paygod.decisions.stores.memory import MemoryDecisionIndex
    from paygod.kernel.clock import ManualClock
    from paygod.ledger.service import LedgerService
    from paygod.ledger.stores.memory import MemoryLedgerStore

    total = int(os.environ.get("BENCH_REPLAY_DECISIONS", "10000"))
    clock = ManualClock(datetime(2026, 1, 1, tzinfo=UTC))
    ledger = LedgerService(MemoryLedgerStore(), clock)
    service = DecisionService(
        ledger, PackRepository(Path("/nonexistent-packs")), clock, MemoryDecisionIndex()
    )
    rails = ["card", "sepa", "wire", "ach"]
    started = time.perf_counter()
    for i in range(total):
        service.decide(
            subject=f"urn:paygod:agent:{i % 97}",
            context={},
            input={
                "payment": {
                    "amount_minor": (i * 7919) % 3_000_000 + 1,
                    "currency": "EUR",
                    "rail": rails[i % 4],
                    "counterparty": {"ref": "urn:paygod:cp:1", "verified": i % 5 != 0},
                },
                "risk": {"score": (i % 10) / 10},
            },
            idempotency_key=f"r{i}",
        )
        clock.advance(13)
    seal_rate = total / (time.perf_counter() - started)
    seqs = [e.seq for e in ledger.iter_entries() if e.kind == "decision"]
    started = time.perf_counter()
    identical = sum(1 for seq in seqs if service.replay(seq)["identical"])
    replay_rate = len(seqs) / (time.perf_counter() - started)
    yield Figure(
        "replay_decisions_per_s",
        replay_rate,
        "replays/s",
        seal_rate,
        "sealing the same decisions (memory ledger) per s",
        {"decisions": len(seqs), "identical": identical},
    )


@benchmark("decisions_seal")
def decisions_seal() -> Iterator[Figure]:
    """Sealed decisions in process (SQLite, 32 threads) vs appending the same entries raw."""
    import threading

    from paygod.bootstrap import build_kernel
    from paygod.kernel.settings import load_settings
    from paygod.ledger import EntryDraft

    threads, per_thread = 32, int(os.environ.get("BENCH_SEAL_PER_THREAD", "40"))
    with tempfile.TemporaryDirectory() as home:
        kernel = build_kernel(load_settings(home=Path(home), packs=Path(home) / "none"))
        try:
            service = kernel.decisions
            sample = service.decide(
                **_decision_args(0), idempotency_key="warm"
            )  # publishes the pack once
            payloads = [
                dict(e.payload)
                for e in kernel.ledger.entries(after=sample["ledger"]["seq"] - 3, limit=3)
            ]

            def run(work: Any) -> float:
                def one(t: int) -> None:
                    for i in range(per_thread):
                        work(t * 10_000 + i)

                pool = [threading.Thread(target=one, args=(t,)) for t in range(threads)]
                started = time.perf_counter()
                for thread in pool:
                    thread.start()
                for thread in pool:
                    thread.join()
                return threads * per_thread / (time.perf_counter() - started)

            def raw(n: int) -> None:
                kernel.ledger.append_many(
                    [EntryDraft("bench", f"urn:bench:{n % 500}", p) for p in payloads]
                )

            def sealed(n: int) -> None:
                service.decide(**_decision_args(n), idempotency_key=f"seal-{n}")

            raw_rate = run(raw)
            sealed_rate = run(sealed)
        finally:
            kernel.close()
    yield Figure(
        "sealed_decisions_in_process_per_s",
        sealed_rate,
        "decisions/s",
        raw_rate,
        "ledger.append_many of the same 3 entries per s",
        {"threads": threads},
    )


def _decision_args(n: int) -> dict[str, Any]:
    body = _decision_body(n)
    return {
        "subject": body["subject"],
        "context": body["context"],
        "input": body["input"],
        "packs": body["packs"],
    }


# -- reads after a restart -----------------------------------------------------------


@benchmark("decision_reads_restart")
def decision_reads_restart() -> Iterator[Figure]:
    """Reading sealed decisions (with their receipts) on a 1M-entry SQLite ledger, before
    and after the kernel restarts (cold caches), in the same run.

    Six subjects get 250 decisions each after the ledger holds `PAYGOD_BENCH_LEDGER_SIZE`
    (default 1,000,000) entries; 100 of them are read by id, each read building its
    inclusion proof and signed tree head, before the restart and again after it.
    """
    from paygod.bootstrap import build_kernel
    from paygod.kernel.settings import load_settings
    from paygod.ledger import EntryDraft

    total = int(os.environ.get("PAYGOD_BENCH_LEDGER_SIZE", "1000000"))
    with tempfile.TemporaryDirectory() as tmp:
        env = {"PAYGOD_HOME": tmp, "PAYGOD_LOG_LEVEL": "error"}
        saved = {k: os.environ.get(k) for k in env}
        os.environ.update(env)
        try:
            kernel = build_kernel(load_settings())
            batch = 10_000
            for k in range(0, total, batch):
                kernel.ledger.append_many(
                    [
                        EntryDraft("observation", f"s{i % 100_000}", {"i": i})
                        for i in range(k, min(total, k + batch))
                    ]
                )
            ids: list[str] = []
            for n in range(250):
                for agent in range(6):
                    doc = dict(_inputs()[n % 8]["payment"], amount_minor=1000 + n)
                    ids.append(
                        kernel.decisions.decide(
                            subject=f"urn:paygod:agent:{agent}",
                            context={},
                            input={"payment": doc},
                            idempotency_key=f"bench-{agent}-{n}",
                        )["decision_id"]
                    )
            wanted = random.Random(7).sample(ids, 100)

            def reads() -> list[float]:
                samples = []
                for decision_id in wanted:
                    started = time.perf_counter()
                    kernel.decisions.get(decision_id)
                    samples.append(time.perf_counter() - started)
                return samples

            before = reads()
            size = kernel.ledger.size
            kernel.close()
            kernel = build_kernel(load_settings())  # the restart: every cache is cold
            after = reads()
            kernel.close()
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value
    extra = {"entries": size, "reads": len(wanted)}
    for q in (50, 99):
        yield Figure(
            f"decision_read_after_restart_p{q}_ms",
            percentile(after, q) * 1000,
            "ms",
            percentile(before, q) * 1000,
            f"p{q} of the same reads before the restart",
            extra,
        )
