"""A 100.00 mandate holds when 64 payments under it arrive at once on two API processes
sharing one SQLite file; each request is RFC 9421-signed by the agent, and a replayed
signed request is refused."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import httpx

from tests.e2e.conftest import start_server
from tests.e2e.test_limits_race import UNLIMITED_RATE
from tests.support.mandate_race import assert_mandate_held, payment, setup, signed_headers


def test_64_payments_at_once_never_exceed_the_mandate(paygod_home: Path) -> None:
    server = start_server(paygod_home, UNLIMITED_RATE, workers=2)
    try:
        assert_mandate_held(server.url, server.headers, "sqlite")
    finally:
        server.process.terminate()
        server.process.wait(10)


def test_a_replayed_signed_request_is_refused(paygod_home: Path) -> None:
    server = start_server(paygod_home, UNLIMITED_RATE)
    try:
        agent, holder, mandate_id = setup(server.url, server.headers, "replay")
        body = json.dumps(payment("replay", mandate_id, 1)).encode()
        headers = {
            **agent,
            **signed_headers(server.url, holder, body, uuid.uuid4().hex),
            "Idempotency-Key": "replay-1",
        }
        first = httpx.post(server.url + "/v1/payments", content=body, headers=headers, timeout=30)
        assert first.status_code == 201, first.text
        again = httpx.post(
            server.url + "/v1/payments",
            content=body,
            headers={**headers, "Idempotency-Key": "replay-2"},
            timeout=30,
        )
        assert again.status_code == 401, again.text
        assert again.json()["type"].endswith("signature-replayed")
        tampered = body.replace(b'"amount": 300', b'"amount": 301')
        forged = httpx.post(
            server.url + "/v1/payments",
            content=tampered,
            headers={
                **signed_headers(server.url, holder, body, uuid.uuid4().hex),
                **agent,
                "Idempotency-Key": "replay-3",
            },
            timeout=30,
        )
        assert forged.status_code == 401 and forged.json()["type"].endswith("signature-digest")
    finally:
        server.process.terminate()
        server.process.wait(10)
