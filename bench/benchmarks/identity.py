"""Identity: the cost of authentication and authorisation on every /v1 request.

Figures, each beside a baseline measured in the same run:
- key lookups/s (prefix lookup + constant-time hash compare + principal load) vs a bare
  SQLite primary-key read on the same database;
- HTTP requests/s and median latency through the global auth dependency (GET
  /v1/identity/me with an API key) vs the unauthenticated GET /healthz, same server,
  one keep-alive connection;
- scope `own` listing: pages/s of an agent's transfers (owner filter in the SQL query) vs
  pages/s of the whole tenant's transfers, same SQLite store of 100k transfers.
"""

from __future__ import annotations

import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

from bench.harness import Figure, benchmark, rate


@benchmark("identity_auth")
def identity_auth() -> Iterator[Figure]:
    from paygod.bootstrap import build_kernel
    from paygod.identity.model import PrincipalKind, Role
    from paygod.kernel.settings import load_settings

    with tempfile.TemporaryDirectory() as home:
        kernel = build_kernel(load_settings(home=Path(home), database_url=None, redis_url=None))
        try:
            identity = kernel.identity
            agent = identity.create_principal("acme", "bot", PrincipalKind.AGENT, {Role.AGENT})
            token = identity.issue_key(agent.principal_id).token
            conn = kernel.db.connection()  # type: ignore[union-attr]

            def bare() -> int:
                for _ in range(200):
                    conn.execute(
                        "SELECT * FROM identity_principals WHERE principal_id = ?",
                        (agent.principal_id,),
                    ).fetchone()
                return 200

            def lookups() -> int:
                for _ in range(200):
                    identity.authenticate_key(token)
                return 200

            baseline = rate(bare)
            ours = rate(lookups)
        finally:
            kernel.close()
    yield Figure("api_key_authentications_per_s", ours, "auth/s", baseline, "sqlite pk read")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _latencies(http: httpx.Client, path: str, seconds: float) -> list[float]:
    samples: list[float] = []
    stop = time.perf_counter() + seconds
    while time.perf_counter() < stop:
        started = time.perf_counter()
        response = http.get(path)
        samples.append(time.perf_counter() - started)
        if response.status_code != 200:
            raise RuntimeError(f"{path}: {response.status_code} {response.text[:200]}")
    return samples


@benchmark("identity_http")
def identity_http() -> Iterator[Figure]:
    seconds = float(os.environ.get("BENCH_SECONDS", "5"))
    with tempfile.TemporaryDirectory() as home:
        port = _free_port()
        env = {
            **os.environ,
            "PAYGOD_HOME": home,
            "PAYGOD_LOG_LEVEL": "warning",
            "PAYGOD_DEV_MODE": "true",
            "PAYGOD_RATE_PRINCIPAL_BURST": "10000000",
            "PAYGOD_RATE_TENANT_BURST": "10000000",
        }
        proc = subprocess.Popen(
            [sys.executable, "-m", "paygod", "serve", "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            url = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 30
            while True:
                try:
                    if httpx.get(url + "/readyz", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.05)
            key = (Path(home) / "dev-api-key").read_text().strip()
            with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {key}"}) as http:
                _latencies(http, "/healthz", 0.5)  # warm up both paths
                _latencies(http, "/v1/identity/me", 0.5)
                health = _latencies(http, "/healthz", seconds)
                authed = _latencies(http, "/v1/identity/me", seconds)
        finally:
            proc.terminate()
            proc.wait(10)
    health_median = statistics.median(health) * 1000
    authed_median = statistics.median(authed) * 1000
    yield Figure(
        "authenticated_requests_per_s",
        len(authed) / seconds,
        "req/s",
        len(health) / seconds,
        "GET /healthz (no auth)",
    )
    yield Figure(
        "authenticated_median_latency_ms",
        authed_median,
        "ms",
        health_median,
        "GET /healthz (no auth)",
        {"auth_overhead_ms": round(authed_median - health_median, 3)},
    )


@benchmark("identity_own_scope")
def identity_own_scope() -> Iterator[Figure]:
    from datetime import UTC, datetime

    from paygod.accounting.model import Account, AccountCode, Transfer, TransferState
    from paygod.accounting.stores.sqlite import SqliteAccountStore
    from paygod.kernel.database import SqliteDatabase, migrate

    transfers = int(os.environ.get("BENCH_OWN_TRANSFERS", "100000"))
    start = datetime(2026, 1, 1, tzinfo=UTC)
    with tempfile.TemporaryDirectory() as home:
        db = SqliteDatabase(Path(home) / "own.db")
        try:
            migrate(db)
            store = SqliteAccountStore(db)
            conn = db.connect()
            conn.execute("BEGIN IMMEDIATE")
            session = store.session(conn)
            session.insert_accounts(
                [
                    Account(
                        f"a{i:05d}", "acme", "USD", AccountCode.ASSET, start, owner=f"agent-{i}"
                    )
                    for i in range(1000)
                ]
            )
            session.insert_transfers(
                Transfer(
                    id=f"x{i:08d}",
                    tenant_id="acme",
                    debit_account_id=f"a{i % 1000:05d}",
                    credit_account_id=f"a{(i + 1) % 1000:05d}",
                    amount=1,
                    ledger="USD",
                    code="transfer",
                    timestamp=start,
                    state=TransferState.POSTED,
                )
                for i in range(transfers)
            )
            conn.execute("COMMIT")
            conn.close()
            with store.reading() as reads:

                def tenant_page() -> int:
                    for _ in range(20):
                        assert len(reads.list_transfers("acme", limit=100)) == 100
                    return 20

                def agent_page() -> int:
                    for _ in range(20):
                        reads.list_transfers("acme", limit=100, owner="agent-7")
                    return 20

                baseline = rate(tenant_page)
                ours = rate(agent_page)
        finally:
            db.close()
    yield Figure(
        "own_scope_transfer_pages_per_s",
        ours,
        "pages/s",
        baseline,
        "tenant page, no owner filter",
        {"transfers": transfers, "owner_transfers": 2 * transfers // 1000},
    )
