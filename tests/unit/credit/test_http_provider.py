"""The HTTP provider adapter against a real HTTP server on a thread: answers, 5xx retried
with backoff, timeouts, 4xx not retried, the per-provider circuit breaker opening."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest

from paygod.bootstrap import build_kernel
from paygod.credit.bureau import ProviderBureau
from paygod.credit.ports import BureauUnavailable
from paygod.credit.providers import HttpProvider, ProviderRefused, ProviderUnavailable
from paygod.executor.backoff import Backoff
from paygod.executor.breaker import BreakerBoard, CircuitState
from paygod.kernel.clock import ManualClock, SystemClock
from paygod.kernel.errors import InvalidSettings

REPORT = {
    "score": 720,
    "monthly_debt": 30_000,
    "utilization": 20,
    "delinquencies_24m": 0,
    "inquiries_6m": 1,
    "months_on_file": 90,
    "bankruptcy": False,
    "name": "raw personal data",
}


class Script:
    """What the server does for each reference: a list of behaviours, one per call."""

    def __init__(self) -> None:
        self.plans: dict[str, list[str]] = {}
        self.calls: dict[str, int] = {}
        self.lock = threading.Lock()

    def next(self, ref: str) -> str:
        with self.lock:
            self.calls[ref] = self.calls.get(ref, 0) + 1
            plan = self.plans.get(ref, ["ok"])
            return plan.pop(0) if len(plan) > 1 else plan[0]


@pytest.fixture
def server() -> Iterator[tuple[str, Script]]:
    script = Script()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            ref = parse_qs(urlparse(self.path).query)["applicant_ref"][0]
            behaviour = script.next(ref)
            if behaviour == "slow":
                time.sleep(0.5)
            status = {"503": 503, "500": 500, "404": 404}.get(behaviour, 200)
            body = json.dumps(REPORT if status == 200 else {"error": behaviour}).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/v1/report", script
    httpd.shutdown()
    httpd.server_close()


FAST = Backoff(initial=0.01, maximum=0.05, jitter=0.01)


def provider(url: str, board: BreakerBoard, **kw: object) -> HttpProvider:
    return HttpProvider("bureau-x", url, board, timeout=0.2, backoff=FAST, **kw)  # type: ignore[arg-type]


def test_an_answer_becomes_a_report_with_a_digest(server: tuple[str, Script]) -> None:
    url, _ = server
    report = ProviderBureau(provider(url, BreakerBoard(SystemClock()))).report("urn:a:1")
    assert report.score == 720 and report.raw_digest.startswith("sha256:")
    assert "name" not in report.features() and report.raw is not None


def test_5xx_is_retried_then_answered(server: tuple[str, Script]) -> None:
    url, script = server
    script.plans["urn:a:2"] = ["503", "500", "ok"]
    answer = provider(url, BreakerBoard(SystemClock())).fetch("urn:a:2")
    assert answer["score"] == 720 and script.calls["urn:a:2"] == 3


def test_a_timeout_every_time_gives_up_unavailable(server: tuple[str, Script]) -> None:
    url, script = server
    script.plans["urn:a:3"] = ["slow"]
    started = time.monotonic()
    with pytest.raises(ProviderUnavailable, match="timeout"):
        provider(url, BreakerBoard(SystemClock()), attempts=2).fetch("urn:a:3")
    assert script.calls["urn:a:3"] == 2
    assert time.monotonic() - started < 1.5  # the 0.2 s timeout cut each call short
    with pytest.raises(BureauUnavailable):
        ProviderBureau(provider(url, BreakerBoard(SystemClock()), attempts=1)).report("urn:a:3")


def test_4xx_is_not_retried(server: tuple[str, Script]) -> None:
    url, script = server
    script.plans["urn:a:4"] = ["404"]
    with pytest.raises(ProviderRefused):
        provider(url, BreakerBoard(SystemClock())).fetch("urn:a:4")
    assert script.calls["urn:a:4"] == 1


def test_the_breaker_opens_per_provider_and_stops_calls(server: tuple[str, Script]) -> None:
    url, script = server
    clock = ManualClock(datetime(2026, 3, 2, tzinfo=UTC))
    board = BreakerBoard(clock, failure_threshold=3, cool_down=30)
    script.plans["urn:a:5"] = ["503"]
    with pytest.raises(ProviderUnavailable):
        provider(url, board, attempts=3).fetch("urn:a:5")
    assert board.get("credit-provider:bureau-x").state is CircuitState.OPEN
    calls = script.calls["urn:a:5"]
    with pytest.raises(ProviderUnavailable, match="circuit open"):
        provider(url, board).fetch("urn:a:6")
    assert script.calls.get("urn:a:6") is None and script.calls["urn:a:5"] == calls
    # Another provider's breaker is its own.
    other = HttpProvider("kyc-y", url, board, timeout=0.2, backoff=FAST)
    assert other.fetch("urn:a:6")["score"] == 720
    # After the cool-down one probe goes through and closes it.
    clock.advance(31)
    assert provider(url, board).fetch("urn:a:7")["score"] == 720
    assert board.get("credit-provider:bureau-x").state is CircuitState.CLOSED


def test_the_kernel_reads_its_providers_from_the_home(
    server: tuple[str, Script], paygod_home: Path
) -> None:
    """`credit-providers.yaml`: the bureau over HTTP; the saga pulls the report from the
    server (the reference has no fixture: the score is the server's)."""
    url, script = server
    paygod_home.mkdir(parents=True, exist_ok=True)
    (paygod_home / "credit-providers.yaml").write_text(
        f"bureau: {{type: http, url: '{url}', timeout: 0.5}}\n"
        "account: {type: simulated, unavailable: []}\n"
        "kyc: {type: simulated}\n"
    )
    kernel = build_kernel()
    try:
        application, _ = kernel.lending.submit(
            {
                "product_id": "personal-term-loan",
                "applicant_ref": "urn:applicant:from-http",
                "amount": 1_000_000,
                "currency": "USD",
                "payments": 36,
                "monthly_income": 700_000,
            },
            tenant_id="default",
            applicant="agent-a",
        )
        assert script.calls["urn:applicant:from-http"] == 1
        assert application.bureau is not None and application.bureau["score"] == 720
        assert application.status.value == "offered"
    finally:
        kernel.close()


def test_a_bad_providers_file_is_refused(paygod_home: Path) -> None:
    paygod_home.mkdir(parents=True, exist_ok=True)
    (paygod_home / "credit-providers.yaml").write_text("bureau: {type: ftp}\n")
    with pytest.raises(InvalidSettings, match="simulated or http"):
        build_kernel().close()
