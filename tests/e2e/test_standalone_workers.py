"""Standalone mode with two API processes (`serve --workers 2`) on one SQLite file.

Each process has its own group commit; they take turns on the file's write lock. Every
decision must land once, in one gap-free verified chain, each with a receipt that proves
it, and an Idempotency-Key raced against both processes must give one decision.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import httpx

from paygod.ledger.verifier import check_inclusion, check_tree_head
from tests.e2e.conftest import run_cli, start_server
from tests.support.requests import decision_body


def test_two_workers_seal_every_decision_once_into_one_verified_chain(
    paygod_home: Path,
) -> None:
    paygod_home.mkdir(parents=True, exist_ok=True)
    server = start_server(
        paygod_home,
        {"PAYGOD_RATE_PRINCIPAL_PER_SECOND": "100000", "PAYGOD_RATE_PRINCIPAL_BURST": "100000"},
        workers=2,
    )
    answers: list[dict[str, Any]] = []
    statuses: list[int] = []
    lock = threading.Lock()

    def send(thread: int) -> None:
        # A fresh connection per request: uvicorn's workers share the socket, so
        # consecutive requests are spread over both processes.
        for n in range(15):
            key = f"w{thread}-{n}" if n % 5 else "raced-key"
            response = httpx.post(
                server.url + "/v1/decisions",
                json=decision_body(1000 + n if n % 5 else 999),
                headers={**server.headers, "Idempotency-Key": key},
                timeout=30,
            )
            with lock:
                statuses.append(response.status_code)
                answers.append(response.json())

    try:
        threads = [threading.Thread(target=send, args=(t,)) for t in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert set(statuses) <= {200, 201}, statuses
        raced = {a["decision_id"] for a in answers if a["idempotency_key"] == "raced-key"}
        assert len(raced) == 1  # 24 requests, both processes: one decision
        unique = {a["decision_id"]: a for a in answers}
        assert len(unique) == 8 * 12 + 1
        for answer in unique.values():
            ledger = answer["ledger"]
            assert check_inclusion(ledger["inclusion_proof"]) is None
            assert ledger["tree_head"]["tree_size"] > ledger["seq"]
            assert ledger["inclusion_proof"]["root_hash"] == ledger["tree_head"]["root_hash"]
    finally:
        server.process.terminate()
        server.process.wait(15)
    env = {"PAYGOD_HOME": str(paygod_home)}
    pem = run_cli("ledger", "head", "--public-key", env=env)
    assert pem.code == 0, pem.stderr
    for answer in unique.values():  # both processes sign with the one key of the home
        assert check_tree_head(answer["ledger"]["tree_head"], pem.stdout.encode()) is None
    verified = run_cli("ledger", "verify", env=env)
    assert verified.code == 0, verified.stdout + verified.stderr
