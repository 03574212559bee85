"""The load and fault harness for distributed mode: `python -m bench.fault_harness`.

For 1, 2 and 4 API processes on PostgreSQL (two executor workers, the NATS relay), it drives
decisions, transfers and payments over HTTP at several concurrency levels, and during the
last level it kills an executor worker (SIGKILL), kills and restarts the relay and drops every
database connection. Then, with the queue drained, it checks:

1. the ledger verifies (chain, Merkle tree, signed tree heads);
2. balances sum to zero (per ledger, posted debits equal posted credits, and the trial
   balance agrees);
3. every acknowledged request is present (each decision, transfer and payment the API
   answered 200/201 for can be read back);
4. no side effect happened twice (the simulated rail saw each payment at most once, and
   every settled payment exactly once; JetStream holds each outbox event exactly once).

It prints throughput and latency per configuration and exits 1 if any check fails.
Bounded: `--seconds` per level (default 8), loopback only.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sqlite3
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from bench.cluster_load import OPERATIONS, Deployment, Outcome, deployment, drive, drop_connections


@dataclass
class Check:
    name: str
    ok: bool
    detail: str


@dataclass
class ConfigurationReport:
    api: int
    levels: list[tuple[int, Outcome]] = field(default_factory=list)
    faults: list[str] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)
    drain_seconds: float = 0.0
    log: str = ""

    @property
    def ok(self) -> bool:
        return bool(self.checks) and all(c.ok for c in self.checks)


async def _faults(target: Deployment, seconds: float, log: list[str]) -> None:
    """Kill a worker at 25 %, restart the relay at 50 %, drop DB connections at 75 %."""
    started = time.monotonic()

    async def at(fraction: float) -> None:
        await asyncio.sleep(max(0.0, started + seconds * fraction - time.monotonic()))

    def stamp() -> str:
        return f"t+{time.monotonic() - started:.1f}s"

    await at(0.25)
    pid = await asyncio.to_thread(target.supervisor.kill, "worker-1")
    log.append(f"{stamp()} SIGKILL worker-1 (pid {pid}); the supervisor restarts it")
    await at(0.50)
    # SIGKILL: the dead relay keeps its lease until it lapses; the new one must wait it out.
    await asyncio.to_thread(target.supervisor.restart, "relay", sig=signal.SIGKILL)
    log.append(f"{stamp()} relay killed (SIGKILL) and restarted; it takes over after the lease")
    await at(0.75)
    dropped = await asyncio.to_thread(drop_connections, f"paygod_{target.name}")
    log.append(f"{stamp()} dropped {dropped} PostgreSQL connections (pg_terminate_backend)")


async def _level(
    target: Deployment, concurrency: int, seconds: float, faults: list[str] | None
) -> Outcome:
    load = drive(target, concurrency=concurrency, seconds=seconds)
    if faults is None:
        return await load
    outcome, _ = await asyncio.gather(load, _faults(target, seconds, faults))
    return outcome


def _wait_drained(kernel: Any, payments: list[str], timeout: float = 180.0) -> float:
    """Until every acknowledged payment is terminal, the outbox is empty and the relay caught up."""
    from paygod.events.wiring import cursor_store_for
    from paygod.payments.model import TERMINAL

    cursors = cursor_store_for(kernel.db)
    started = time.monotonic()
    remaining = list(payments)
    while time.monotonic() - started < timeout:
        remaining = [p for p in remaining if kernel.payments.get(p).status not in TERMINAL]
        counts = kernel.executor.store.counts()
        cursor = cursors.get("default")
        lag = cursors.lag(cursor.position) if cursor else -1
        if not remaining and counts["pending"] == 0 and lag == 0:
            return time.monotonic() - started
        time.sleep(0.5)
    raise TimeoutError(
        f"not drained after {timeout:.0f} s: {len(remaining)} payments in flight, "
        f"outbox {kernel.executor.store.counts()}"
    )


def _checks(kernel: Any, target: Deployment, total: Outcome) -> list[Check]:
    from paygod.kernel.errors import NotFound

    checks = []
    report = kernel.ledger.verify()
    checks.append(
        Check(
            "ledger verifies",
            report.ok,
            f"{report.entries_checked} entries, root {report.root_hash[:16]}…"
            + ("" if report.ok else f"; first finding: {report.findings[0]}"),
        )
    )

    trial = kernel.accounting.trial_balance("default")
    unbalanced = [
        t["ledger"]
        for t in trial["ledgers"]
        if not t["balanced"] or t["debits_posted"] != t["credits_posted"]
    ]
    posted = {t["ledger"]: t["debits_posted"] for t in trial["ledgers"]}
    checks.append(
        Check(
            "balances sum to zero",
            not unbalanced,
            f"ledgers {sorted(posted)}; posted debits = credits in each"
            if not unbalanced
            else f"unbalanced: {unbalanced}",
        )
    )

    missing: dict[str, int] = dict.fromkeys(OPERATIONS, 0)
    for decision_id in total.acknowledged["decision"]:
        try:
            kernel.decisions.get(decision_id)
        except NotFound:
            missing["decision"] += 1
    for transfer_id in total.acknowledged["transfer"]:
        try:
            kernel.accounting.get_transfer("default", transfer_id)
        except NotFound:
            missing["transfer"] += 1
    for payment_id in total.acknowledged["payment"]:
        try:
            kernel.payments.get(payment_id)
        except NotFound:
            missing["payment"] += 1
    acked = {op: len(set(ids)) for op, ids in total.acknowledged.items()}
    checks.append(
        Check(
            "every acknowledged request is present",
            not any(missing.values()),
            f"acknowledged {acked}; missing {missing}",
        )
    )

    with sqlite3.connect(target.home / "ach-calls.db") as rail:
        calls = dict(rail.execute("SELECT idempotency_key, calls FROM rail_calls").fetchall())
    settled = [
        p for p in set(total.acknowledged["payment"]) if kernel.payments.get(p).status == "settled"
    ]
    twice = {k: n for k, n in calls.items() if n > 1}
    events = _outbox_rows(kernel)
    stored = _stream_messages(target)
    checks.append(
        Check(
            "no side effect happened twice",
            not twice and len(calls) == len(settled) and stored == events,
            f"{len(settled)} settled payments, {len(calls)} rail keys, "
            f"{len(twice)} called more than once; {events} outbox events, "
            f"{stored} messages in JetStream",
        )
    )
    return checks


def _outbox_rows(kernel: Any) -> int:
    with kernel.db.connection() as conn:
        return int(conn.execute("SELECT COUNT(*) FROM outbox").fetchone()[0])


def _stream_messages(target: Deployment) -> int:
    import nats

    from paygod.events.jetstream import family_streams

    namespace = target.env["PAYGOD_NATS_NAMESPACE"]

    async def count() -> int:
        nc = await nats.connect(target.env["PAYGOD_NATS_URL"])
        try:
            js = nc.jetstream()
            total = 0
            for stream in await family_streams(js, namespace):
                total += (await js.stream_info(stream)).state.messages
                await js.delete_stream(stream)  # the harness leaves nothing behind
            return total
        finally:
            await nc.close()

    return asyncio.run(count())


def run_configuration(
    api: int, levels: list[int], seconds: float, *, faults: bool, worker_lease: float = 30.0
) -> ConfigurationReport:
    from paygod.bootstrap import build_kernel

    report = ConfigurationReport(api)
    name = f"fault_{api}p_{int(time.time())}"
    report.log = f"{tempfile.gettempdir()}/paygod-{name}-cluster.log"
    with deployment(name, api=api, workers=2, relay=True, worker_lease=worker_lease) as target:
        watcher = threading.Thread(target=target.supervisor.supervise, daemon=True)
        watcher.start()
        total = Outcome()
        for index, concurrency in enumerate(levels):
            inject = report.faults if faults and index == len(levels) - 1 else None
            outcome = asyncio.run(_level(target, concurrency, seconds, inject))
            report.levels.append((concurrency, outcome))
            total.merge(outcome)
        kernel = build_kernel()
        try:
            report.drain_seconds = _wait_drained(kernel, list(set(total.acknowledged["payment"])))
            report.checks = _checks(kernel, target, total)
        finally:
            kernel.close()
        target.supervisor.request_stop()
    return report


def print_report(report: ConfigurationReport) -> None:
    out = sys.stdout
    out.write(f"\n== {report.api} API process(es), 2 workers, relay — PostgreSQL\n")
    out.write(f"{'clients':>7} {'operation':<9} {'per s':>8} {'p50 ms':>8} {'p95 ms':>8} "
              f"{'p99 ms':>8} {'acked':>7} {'refused':>7} {'no answer':>9}\n")  # fmt: skip
    for concurrency, outcome in report.levels:
        for op in OPERATIONS:
            s = outcome.summary(op)
            out.write(
                f"{concurrency:>7} {op:<9} {s['per_s']:>8} {s['p50_ms']:>8} {s['p95_ms']:>8} "
                f"{s['p99_ms']:>8} {s['acknowledged']:>7} {s['refused']:>7} {s['unknown']:>9}\n"
            )
        codes = ", ".join(f"{c}: {n}" for c, n in sorted(outcome.statuses.items()))
        out.write(f"{'':>7} HTTP statuses {codes}\n")
    for fault in report.faults:
        out.write(f"  fault: {fault}\n")
    out.write(f"  drained in {report.drain_seconds:.1f} s; the processes' log: {report.log}\n")
    for check in report.checks:
        out.write(f"  [{'PASS' if check.ok else 'FAIL'}] {check.name}: {check.detail}\n")
    out.flush()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.fault_harness", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--api", default="1,2,4", help="API process counts (default 1,2,4)")
    parser.add_argument("--clients", default="8,32", help="concurrency levels (default 8,32)")
    parser.add_argument("--seconds", type=float, default=8.0, help="seconds per level (default 8)")
    parser.add_argument("--no-faults", action="store_true", help="load only, no faults")
    parser.add_argument(
        "--worker-lease",
        type=float,
        default=30.0,
        help="seconds a worker's claim lasts; a killed worker's payments wait this long",
    )
    args = parser.parse_args(argv)
    try:
        apis = [int(x) for x in args.api.split(",")]
        levels = [int(x) for x in args.clients.split(",")]
    except ValueError:
        parser.error("--api and --clients take comma-separated integers")
    if (
        not (0 < args.seconds <= 300)
        or any(not 0 < n <= 16 for n in apis)
        or any(not 0 < n <= 256 for n in levels)
    ):
        parser.error("bounded run: seconds in (0, 300], api in 1..16, clients in 1..256")
    reports = []
    for api in apis:
        report = run_configuration(
            api, levels, args.seconds, faults=not args.no_faults, worker_lease=args.worker_lease
        )
        print_report(report)
        reports.append(report)
    ok = all(r.ok for r in reports)
    sys.stdout.write(
        f"\nfault harness: {'PASS' if ok else 'FAIL'} ({len(reports)} configurations)\n"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
