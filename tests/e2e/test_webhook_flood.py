"""D8: the unauthenticated settlement webhook cannot write to the ledger. Unsigned,
oversized or unknown-rail posts to a live server are refused (404 unknown rail, 401
signature) and counted in /metrics, and the sealed ledger does not grow by one entry."""

from __future__ import annotations

import re

import httpx

from tests.e2e.conftest import LiveServer

HUGE = "t=1,v1=" + "A" * 60_000


def refused_total(metrics: str, rail: str, reason: str) -> float:
    found = re.search(
        rf'^paygod_webhook_refused_total\{{rail="{rail}",reason="{reason}"\}} (\S+)$',
        metrics,
        re.M,
    )
    return float(found.group(1)) if found else 0.0


def test_unsigned_and_unknown_rail_webhooks_record_nothing(live_server: LiveServer) -> None:
    with live_server.client() as client:
        before = client.get("/v1/ledger/head").json()["tree_size"]
        codes: list[int] = []
        anonymous = httpx.Client(base_url=live_server.url, timeout=10)
        for i in range(30):
            for rail, header in (
                (f"%E2%80%AEx%0Arail{i}", HUGE),  # U+202E and a newline in the path
                ("bogus", "t=1,v1=00"),
                ("ach", HUGE),  # a configured rail, a 60 KB header
                ("ach", f"t={i},v1={'0' * 64}"),  # a well-formed forgery
                ("ach", ""),
            ):
                r = anonymous.post(
                    f"/v1/payments/webhooks/{rail}",
                    content=b'{"idempotency_key": "x", "status": "settled"}',
                    headers={"Paygod-Signature": header} if header else {},
                )
                codes.append(r.status_code)
                assert r.headers["content-type"].startswith("application/problem+json")
        anonymous.close()
        assert codes.count(404) == 60 and codes.count(401) == 90, codes
        assert client.get("/v1/ledger/head").json()["tree_size"] == before
        metrics = client.get("/metrics").text
    assert refused_total(metrics, "unknown", "unknown_rail") == 60
    assert refused_total(metrics, "ach", "oversized") == 30
    assert refused_total(metrics, "ach", "bad_signature") == 30
    assert refused_total(metrics, "ach", "malformed") == 30
    assert "rail0" not in metrics  # the path's text never becomes a label
