"""The operator gauges on /metrics: outbox, relay lag, ledger size, panic switch."""

from __future__ import annotations

import re

from paygod.bootstrap import Kernel
from tests.support.http import api_client
from tests.support.requests import decision_body


def gauge(text: str, name: str) -> float:
    found = re.search(rf"^{re.escape(name)} (\S+)$", text, re.M)
    assert found, f"{name} not in /metrics"
    return float(found.group(1))


def test_gauges_follow_the_kernel(standalone_kernel: Kernel) -> None:
    kernel = standalone_kernel
    with api_client(kernel) as http:
        before = http.get("/metrics").text
        assert gauge(before, "paygod_relay_pending_events") == 0
        assert gauge(before, "paygod_panic_switch_on") == 0
        size = gauge(before, "paygod_ledger_entries")
        for i in range(2):
            made = http.post(
                "/v1/decisions", json=decision_body(), headers={"Idempotency-Key": f"m{i}"}
            )
            assert made.status_code == 201, made.text
        kernel.panic.turn_on("metrics test", "tester")
        after = http.get("/metrics").text
    assert gauge(after, "paygod_ledger_entries") > size
    assert gauge(after, "paygod_relay_pending_events") == 2  # two decision events unrelayed
    assert gauge(after, "paygod_relay_published_events") == 0
    assert gauge(after, "paygod_panic_switch_on") == 1
    assert 'paygod_outbox_messages{status="pending"}' in after
    assert 'paygod_scrape_errors{gauge="relay"} 0.0' in after


def test_a_store_that_fails_marks_its_gauge_and_the_scrape_still_answers(
    standalone_kernel: Kernel,
) -> None:
    kernel = standalone_kernel

    def broken() -> dict[str, int]:
        raise ConnectionError("store down")

    kernel.executor.store.counts = broken  # type: ignore[method-assign]
    with api_client(kernel) as http:
        scraped = http.get("/metrics")
    assert scraped.status_code == 200
    assert 'paygod_scrape_errors{gauge="outbox"} 1.0' in scraped.text
    assert "paygod_ledger_entries" in scraped.text
