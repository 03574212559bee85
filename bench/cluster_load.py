"""A real local cluster on PostgreSQL and the load that drives it, for the fault harness and
the distributed benchmark: decisions, transfers and payments over HTTP, loopback only,
bounded in count and time.

Each configuration gets a fresh PostgreSQL database and a fresh PAYGOD_HOME, so runs never
see each other's data; the simulated ACH rail keeps its call counts in a file under the
home, shared by every worker process, which is how "no payment went out twice" is checked.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import random
import statistics
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

# The bundled pack limits velocity per payer: payments are spread over the payments
# benchmark's funded payers.
from bench.benchmarks.payments import PAYEE, PAYERS, fund_payers
from bench.loadgen import Connection
from paygod.cluster import Supervisor, cluster_specs

PG_ADMIN_URL = os.environ.get("PAYGOD_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
NATS_URL = os.environ.get("PAYGOD_BENCH_NATS", "nats://127.0.0.1:4222")
# Shared panic switch and rate limits, as distributed mode runs them; a database of its own,
# emptied before each deployment.
REDIS_URL = os.environ.get("PAYGOD_BENCH_REDIS", "redis://127.0.0.1:6379/9")
DECISION_INPUT = {
    "payment": {
        "amount_minor": 4999,
        "currency": "EUR",
        "rail": "card",
        "counterparty": {"ref": "urn:paygod:cp:acme", "verified": True},
    }
}
OPERATIONS = ("decision", "transfer", "payment")


@dataclass
class Outcome:
    """What one load phase achieved: acknowledged ids per operation and their latencies."""

    seconds: float = 0.0
    acknowledged: dict[str, list[str]] = field(
        default_factory=lambda: {op: [] for op in OPERATIONS}
    )
    latencies: dict[str, list[float]] = field(default_factory=lambda: {op: [] for op in OPERATIONS})
    refused: dict[str, int] = field(default_factory=lambda: dict.fromkeys(OPERATIONS, 0))
    unknown: dict[str, int] = field(default_factory=lambda: dict.fromkeys(OPERATIONS, 0))
    statuses: dict[int, int] = field(default_factory=dict)

    def rate(self, op: str) -> float:
        return len(self.acknowledged[op]) / self.seconds if self.seconds else 0.0

    def percentile(self, op: str, q: float) -> float:
        values = sorted(self.latencies[op])
        if not values:
            return 0.0
        return values[min(len(values) - 1, round(q * (len(values) - 1)))] * 1000

    def merge(self, other: Outcome) -> None:
        self.seconds += other.seconds
        for op in OPERATIONS:
            self.acknowledged[op] += other.acknowledged[op]
            self.latencies[op] += other.latencies[op]
            self.refused[op] += other.refused[op]
            self.unknown[op] += other.unknown[op]
        for code, n in other.statuses.items():
            self.statuses[code] = self.statuses.get(code, 0) + n

    def summary(self, op: str) -> dict[str, Any]:
        lat = self.latencies[op]
        return {
            "per_s": round(self.rate(op), 1),
            "acknowledged": len(self.acknowledged[op]),
            "p50_ms": round(self.percentile(op, 0.50), 1),
            "p95_ms": round(self.percentile(op, 0.95), 1),
            "p99_ms": round(self.percentile(op, 0.99), 1),
            "mean_ms": round(statistics.fmean(lat) * 1000, 1) if lat else 0.0,
            "refused": self.refused[op],
            "unknown": self.unknown[op],
        }


@dataclass
class Deployment:
    name: str
    home: Path
    database_url: str
    env: dict[str, str]
    supervisor: Supervisor
    base_url: str
    headers: dict[str, str]


def _admin_execute(*statements: str) -> None:
    import psycopg

    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        for statement in statements:
            conn.execute(statement)


def drop_connections(database: str) -> int:
    """Terminate every server connection to `database` (pools must reconnect)."""
    import psycopg

    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = %s AND pid <> pg_backend_pid()",
            (database,),
        ).fetchall()
    return len(rows)


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def deployment(
    name: str,
    *,
    api: int,
    workers: int,
    relay: bool,
    namespace: str | None = None,
    worker_lease: float = 30.0,
) -> Iterator[Deployment]:
    """A fresh database and home, funded accounts, and a running supervised cluster."""
    database = f"paygod_{name}"
    _admin_execute(
        f"DROP DATABASE IF EXISTS {database} WITH (FORCE)", f"CREATE DATABASE {database}"
    )
    base = PG_ADMIN_URL.rsplit("/", 1)[0]
    database_url = f"{base}/{database}"
    with ExitStack() as stack:
        tmp = stack.enter_context(tempfile.TemporaryDirectory(prefix=f"paygod-{name}-"))
        home = Path(tmp)
        (home / "rails.yaml").write_text(
            f"connectors:\n  ach: {{type: simulated, state_path: {home / 'ach-calls.db'}}}\n",
            encoding="utf-8",
        )
        port = free_port()
        env = {
            "PAYGOD_HOME": str(home),
            "PAYGOD_DATABASE_URL": database_url,
            "PAYGOD_PORT": str(port),
            "PAYGOD_LOG_LEVEL": "warning",
            "PAYGOD_DEV_MODE": "true",  # the load uses the dev key
            "PAYGOD_NATS_URL": NATS_URL,
            "PAYGOD_NATS_NAMESPACE": namespace or name.replace("_", "-"),
            "PAYGOD_REDIS_URL": REDIS_URL,
        }
        import redis

        redis.Redis.from_url(REDIS_URL).flushdb()
        # This process builds kernels of the deployment too; the pytest worker that runs
        # the harness goes on to other tests, so the variables are put back afterwards.
        stack.enter_context(_environment(env))
        _prepare(home)
        # The children's logs (retries while faults are injected, restarts) go to a file.
        log_file = (home / "cluster.log").open("ab")
        supervisor = Supervisor(
            cluster_specs(
                host="127.0.0.1",
                port=port,
                api=api,
                workers=workers,
                relay=relay,
                worker_args=("--lease", str(worker_lease)),
            ),
            env=env,
            ready_url=f"http://127.0.0.1:{port}/readyz",
            stdout=log_file.fileno(),
        )
        supervisor.start()
        try:
            supervisor.wait_ready(120)
            key = (home / "dev-api-key").read_text().strip()
            yield Deployment(
                name,
                home,
                database_url,
                env,
                supervisor,
                f"http://127.0.0.1:{port}",
                {"Authorization": f"Bearer {key}"},
            )
        finally:
            supervisor.stop()
            log_file.close()
            # Keep the children's log past the temporary home: it is where a 5xx is explained.
            kept = Path(tempfile.gettempdir()) / f"paygod-{name}-cluster.log"
            kept.write_bytes((home / "cluster.log").read_bytes())
    _admin_execute(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")


@contextmanager
def _environment(env: dict[str, str]) -> Iterator[None]:
    names = [*env, "PAYGOD_CLOCK"]
    saved = {n: os.environ.get(n) for n in names}
    os.environ.pop("PAYGOD_CLOCK", None)
    os.environ.update(env)
    try:
        yield
    finally:
        for n, value in saved.items():
            if value is None:
                os.environ.pop(n, None)
            else:
                os.environ[n] = value


def _prepare(home: Path) -> None:
    """Migrate, mint the dev key, open and fund the payer accounts (set-up, not measured)."""
    from paygod.bootstrap import build_kernel
    from paygod.cli.dev_key import announce_dev_key

    kernel = build_kernel()
    try:
        announce_dev_key(kernel)
        fund_payers(kernel)  # the payments benchmark's payers: same accounts, same funding
    finally:
        kernel.close()


def _request(op: str, n: int, run: str) -> tuple[str, dict[str, Any], dict[str, str]]:
    key = f"{run}-{op}-{n}"
    if op == "decision":
        body = {"subject": f"urn:paygod:agent:{n % 50}", "input": DECISION_INPUT}
        return "/v1/decisions", body, {"Idempotency-Key": key}
    payer = n % PAYERS
    if op == "transfer":
        body = {
            "id": key,
            "debit_account_id": f"payer-{payer}",
            "credit_account_id": f"payer-{(payer + 1 + n // PAYERS) % PAYERS}",
            "amount": 1,
            "ledger": "USD",
        }
        return "/v1/transfers", body, {}
    body = {
        "payer_account": f"payer-{payer}",
        "payee": PAYEE,
        "amount": 100,
        "currency": "USD",
        "purpose": "fault harness",
        "rail_preference": "ach",
        "metadata": {"counterparty_verified": True},
    }
    return "/v1/payments", body, {"Idempotency-Key": key}


def _ack_id(op: str, data: dict[str, Any]) -> str:
    return str(
        data["decision_id"]
        if op == "decision"
        else data["payment_id"]
        if op == "payment"
        else data["id"]
    )


async def drive(
    target: Deployment,
    *,
    concurrency: int,
    seconds: float,
    ops: tuple[str, ...] = OPERATIONS,
    run: str | None = None,
    max_requests: int = 100_000,
) -> Outcome:
    """`concurrency` clients, each sending the next operation in turn until time runs out."""
    outcome = Outcome()
    run = run or f"r{random.randrange(16**8):08x}"
    counter = itertools.count()
    deadline = time.monotonic() + seconds

    async def client_loop() -> None:
        connection = Connection(target.base_url, target.headers)
        try:
            while time.monotonic() < deadline:
                n = next(counter)
                if n >= max_requests:
                    return
                op = ops[n % len(ops)]
                path, body, headers = _request(op, n, run)
                started = time.perf_counter()
                try:
                    status, answer = await connection.request(
                        "POST", path, orjson.dumps(body), headers
                    )
                except ConnectionError:
                    outcome.unknown[op] += 1  # no answer: the harness may not count it
                    continue
                outcome.statuses[status] = outcome.statuses.get(status, 0) + 1
                if status in (200, 201):
                    outcome.latencies[op].append(time.perf_counter() - started)
                    outcome.acknowledged[op].append(_ack_id(op, orjson.loads(answer)))
                else:
                    outcome.refused[op] += 1
        finally:
            connection.close()

    started = time.monotonic()
    await asyncio.gather(*(client_loop() for _ in range(concurrency)))
    outcome.seconds = time.monotonic() - started
    return outcome
