"""A store that refuses writes puts the running server in read-only mode, and it leaves it
by itself: every write is 503 `unavailable` with Retry-After and records nothing, reads and
proofs keep working, /readyz warns with the reason, and writes resume without a restart.

Each case makes the real store refuse writes the way production meets it, in ways that
hold even for root: a full disk (the server's file size limit, RLIMIT_FSIZE, set from
outside with prlimit: every write fails as on a full file system), a file that refuses
writes (`chattr +i`, checked by the kernel on every write, even through open
descriptors), and a PostgreSQL whose transactions are read-only (a standby after a
fail-over: `default_transaction_read_only = on`, its sessions reconnected).
"""

from __future__ import annotations

import contextlib
import json
import resource
import shutil
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from paygod.bootstrap import build_kernel
from paygod.kernel.settings import load_settings
from paygod.ledger import verifier
from paygod.ledger.signing import KEY_FILE, load_signer
from tests.e2e.conftest import LiveServer, run_cli, start_server
from tests.support.http import principal_headers

DECISION = {
    "subject": "urn:paygod:agent:ro",
    "input": {
        "payment": {
            "amount_minor": 1200,
            "currency": "EUR",
            "rail": "card",
            "counterparty": {"ref": "urn:paygod:cp:acme", "verified": True},
        }
    },
}


RUN = uuid.uuid4().hex[:12]  # keys of this run: a PostgreSQL database outlives it


def _decide(http: httpx.Client, key: str) -> httpx.Response:
    return http.post("/v1/decisions", json=DECISION, headers={"Idempotency-Key": f"{key}-{RUN}"})


def _size(http: httpx.Client) -> int:
    response = http.get("/v1/ledger/head")
    assert response.status_code == 200, response.text
    return int(response.json()["tree_size"])


def _settle(http: httpx.Client) -> None:
    """A fail-over cuts every session: a request that meets a cut pooled connection is a
    503 with Retry-After (the pool drops that connection), then the pool reconnects."""
    for _ in range(40):
        response = http.get("/v1/ledger/head")
        if response.status_code == 200:
            return
        assert response.status_code == 503 and "Retry-After" in response.headers, response.text
        time.sleep(0.05)
    raise AssertionError("reads did not come back after the sessions were cut")


def _writes_are_refused(http: httpx.Client, sealed: dict[str, Any], public_pem: bytes) -> None:
    _settle(http)
    size = _size(http)
    refused = [
        _decide(http, "ro-1"),
        http.post("/v1/accounts", json={"id": f"ro-{RUN}", "ledger": "EUR", "code": "asset"}),
        http.post(
            "/v1/transfers",
            json={"id": "ro-t", "debit_account_id": "a", "credit_account_id": "b", "amount": 5},
        ),
    ]
    for response in refused:
        assert response.status_code == 503, response.text
        assert response.headers["content-type"].startswith("application/problem+json")
        assert response.json()["type"].endswith("/unavailable")
        assert int(response.headers["Retry-After"]) >= 1
    # Nothing half-written: the ledger did not grow, the account does not exist.
    assert _size(http) == size
    assert http.get(f"/v1/accounts/ro-{RUN}").status_code == 404
    # Reads and proofs keep working, and the decision's receipt still verifies.
    again = http.get(f"/v1/decisions/{sealed['decision_id']}")
    assert again.status_code == 200, again.text
    receipt = again.json()["receipt"]
    assert verifier.check_inclusion(receipt["inclusion_proof"]) is None
    assert verifier.check_tree_head(receipt["tree_head"], public_pem) is None
    proof = http.get(f"/v1/ledger/proofs/inclusion/{receipt['seq']}")
    assert proof.status_code == 200, proof.text
    ready = http.get("/readyz")
    assert ready.status_code == 200, ready.text
    body = ready.json()
    assert body["status"] == "warn"
    writes = next(c for c in body["checks"] if c["name"] == "store-writes")
    assert writes["status"] == "warn" and "read-only mode" in writes["detail"], writes


def _writes_resume(http: httpx.Client, key: str) -> dict[str, Any]:
    """Writes come back by themselves once the store takes them (no restart)."""
    deadline = time.monotonic() + 20
    while True:
        response = _decide(http, key)
        if response.status_code == 201 or time.monotonic() > deadline:
            break
        assert response.status_code == 503, response.text
        time.sleep(0.25)
    assert response.status_code == 201, response.text
    # The store's checks pass again; the overall status may still warn for reasons of
    # its own (dev mode, unsigned packs), which are not this test's.
    ready = http.get("/readyz").json()
    store = {c["name"]: c["status"] for c in ready["checks"] if c["name"].startswith("store")}
    assert store == {"store": "pass", "store-writes": "pass"}, ready
    assert ready["status"] != "fail", ready
    return dict(response.json())


def _public_key(home: Path) -> bytes:
    return load_signer(home / KEY_FILE).public_pem()


@contextlib.contextmanager
def _server(home: Path, env: dict[str, str] | None = None) -> Iterator[LiveServer]:
    home.mkdir(parents=True, exist_ok=True)
    server = start_server(home, env)
    try:
        yield server
    finally:
        server.process.terminate()
        server.process.wait(15)


def _case(
    server: LiveServer,
    refuse: Callable[[], None],
    accept: Callable[[], None],
    env: dict[str, str] | None = None,
) -> None:
    with server.client() as http:
        created = _decide(http, "before")
        assert created.status_code == 201, created.text
        sealed = created.json()
        public_pem = _public_key(server.home)
        refuse()
        try:
            _writes_are_refused(http, sealed, public_pem)
        finally:
            accept()
        resumed = _writes_resume(http, "after")
        assert resumed["receipt"]["seq"] > sealed["receipt"]["seq"]
    # What was refused left nothing behind: the chain and the stored tree still verify.
    verified = run_cli(
        "ledger", "verify", "--json", env={"PAYGOD_HOME": str(server.home), **(env or {})}
    )
    assert verified.code == 0, verified.stdout + verified.stderr
    assert json.loads(verified.stdout)["ok"] is True


def test_sqlite_full_disk_is_read_only_mode_until_space_returns(paygod_home: Path) -> None:
    with _server(paygod_home) as server:
        pid = server.process.pid
        soft, hard = resource.prlimit(pid, resource.RLIMIT_FSIZE)
        _case(
            server,
            # A file size limit of one byte: every write to the database, its WAL or its
            # journal fails (EFBIG), exactly where a full disk fails them (ENOSPC).
            lambda: resource.prlimit(pid, resource.RLIMIT_FSIZE, (1, hard)),
            lambda: resource.prlimit(pid, resource.RLIMIT_FSIZE, (soft, hard)),
        )


def _chattr(flag: str, paths: list[Path]) -> None:
    subprocess.run(["chattr", flag, *map(str, paths)], check=True, capture_output=True)


def test_sqlite_file_that_refuses_writes_is_read_only_mode(paygod_home: Path) -> None:
    if shutil.which("chattr") is None:
        pytest.skip("chattr is not installed")
    probe = paygod_home.parent / "chattr-probe"
    probe.write_text("x")
    try:
        _chattr("+i", [probe])
        _chattr("-i", [probe])
    except subprocess.CalledProcessError:
        pytest.skip("this file system or user cannot set the immutable attribute")
    with _server(paygod_home) as server:
        files = [p for p in paygod_home.glob("paygod.db*") if not p.name.endswith("-shm")]
        files = [p for p in files if not p.name.endswith(".write-lock")]
        _case(server, lambda: _chattr("+i", files), lambda: _chattr("-i", files))


def _admin(postgres_url: str, *statements: str) -> None:
    import psycopg

    maintenance = postgres_url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(maintenance, autocommit=True) as conn:
        for statement in statements:
            conn.execute(statement)


def test_postgres_read_only_is_read_only_mode_until_it_takes_writes(
    paygod_home: Path, postgres_url: str
) -> None:
    database = postgres_url.rsplit("/", 1)[1]
    if database in ("test", "postgres"):
        pytest.skip("needs a database of its own (PAYGOD_TEST_DATABASE_URL): it is made read-only")
    # Every session of the server's database is cut, as a fail-over does: the pool and the
    # writer reconnect, and their new sessions are read-only.
    cut = (
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
        f"WHERE datname = '{database}' AND pid <> pg_backend_pid()"
    )
    env = {"PAYGOD_DATABASE_URL": postgres_url}
    # The database may hold principals already (no dev key is minted then): a key of our own.
    kernel = build_kernel(load_settings(home=paygod_home, database_url=postgres_url))
    try:
        headers = principal_headers(kernel, name="read-only-drill")
    finally:
        kernel.close()
    with _server(paygod_home, env) as server:
        server.headers = headers
        try:
            _case(
                server,
                lambda: _admin(
                    postgres_url,
                    f"ALTER DATABASE {database} SET default_transaction_read_only = on",
                    cut,
                ),
                lambda: _admin(
                    postgres_url, f"ALTER DATABASE {database} RESET default_transaction_read_only"
                ),
                env,
            )
        finally:
            _admin(postgres_url, f"ALTER DATABASE {database} RESET default_transaction_read_only")
