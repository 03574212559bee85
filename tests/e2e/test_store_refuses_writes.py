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
import os
import resource
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from paygod.ledger import verifier
from tests.e2e.conftest import LiveServer, start_server

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


def _decide(http: httpx.Client, key: str) -> httpx.Response:
    return http.post("/v1/decisions", json=DECISION, headers={"Idempotency-Key": key})


def _size(http: httpx.Client) -> int:
    response = http.get("/v1/ledger/head")
    assert response.status_code == 200, response.text
    return int(response.json()["tree_size"])


def _writes_are_refused(http: httpx.Client, sealed: dict[str, Any], public_pem: bytes) -> None:
    size = _size(http)
    refused = [
        _decide(http, "ro-1"),
        http.post("/v1/accounts", json={"id": "ro-acct", "ledger": "EUR", "code": "asset"}),
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
    assert http.get("/v1/accounts/ro-acct").status_code == 404
    # Reads and proofs keep working, and the decision's receipt still verifies.
    again = http.get(f"/v1/decisions/{sealed['decision_id']}")
    assert again.status_code == 200, again.text
    receipt = again.json()["receipt"]
    verifier.check_proof_document(receipt["inclusion_proof"])
    assert verifier.check_tree_head(receipt["tree_head"], public_pem) is None
    proof = http.get(f"/v1/ledger/proofs/inclusion/{receipt['seq']}")
    assert proof.status_code == 200, proof.text
    ready = http.get("/readyz")
    assert ready.status_code == 200, ready.text
    body = ready.json()
    assert body["status"] == "warn"
    writes = next(c for c in body["checks"] if c["name"] == "store-writes")
    assert writes["status"] == "warn" and "refuses writes" in writes["detail"], writes


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
    ready = http.get("/readyz").json()
    assert ready["status"] == "pass", ready
    return dict(response.json())


def _public_key(http: httpx.Client) -> bytes:
    response = http.get("/v1/ledger/head", params={"public_key": "true"})
    assert response.status_code == 200
    pem = response.json().get("public_key_pem")
    return pem.encode() if isinstance(pem, str) else b""


@contextlib.contextmanager
def _server(home: Path, env: dict[str, str] | None = None) -> Iterator[LiveServer]:
    home.mkdir(parents=True, exist_ok=True)
    server = start_server(home, env)
    try:
        yield server
    finally:
        server.process.terminate()
        server.process.wait(15)


def _case(server: LiveServer, refuse: Callable[[], None], accept: Callable[[], None]) -> None:
    with server.client() as http:
        created = _decide(http, "before")
        assert created.status_code == 201, created.text
        sealed = created.json()
        public_pem = _public_key(http)
        refuse()
        try:
            _writes_are_refused(http, sealed, public_pem)
        finally:
            accept()
        resumed = _writes_resume(http, "after")
        assert resumed["receipt"]["seq"] > sealed["receipt"]["seq"]
    verified = subprocess.run(
        ["paygod", "ledger", "verify", "--json"],
        env={**os.environ, "PAYGOD_HOME": str(server.home)},
        capture_output=True,
        text=True,
        executable=shutil.which("paygod") or str(Path(os.sys.executable).with_name("paygod")),
    )
    assert verified.returncode == 0, verified.stdout + verified.stderr
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
    with _server(paygod_home, env) as server:
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
            )
        finally:
            _admin(postgres_url, f"ALTER DATABASE {database} RESET default_transaction_read_only")
