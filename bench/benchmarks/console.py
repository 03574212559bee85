"""The console: page loads on a home with many sealed decisions, beside /healthz.

A page load is what a browser does to show the view: the HTML shell, then the /v1 call
its module makes (the overview, a decision search, one decision, a ledger page). Each is
timed through the full app (middleware, security, the session cookie) in process; the
baseline is GET /healthz timed the same way in the same run. The issue's figure is 100k
decisions (the default; PAYGOD_BENCH_CONSOLE_DECISIONS changes it, and the count is printed
with the figures). They are sealed through the decision service by concurrent callers (one
group commit serves many), never over HTTP; a thousand cases are opened the same way, so
the cases page lists a realistic queue.
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from fastapi.testclient import TestClient

from bench.harness import Figure, benchmark, percentile
from paygod.api.app import create_app
from paygod.bootstrap import Kernel, build_kernel
from paygod.identity.model import PrincipalKind, Role
from paygod.identity.settings import IdentitySettings
from paygod.kernel.settings import load_settings

DECISIONS = int(os.environ.get("PAYGOD_BENCH_CONSOLE_DECISIONS", "100000"))
CASES = 1000
SAMPLES = 200
TARGET_MS = 300.0


def _request(i: int) -> dict[str, object]:
    return {
        "subject": f"urn:paygod:agent:bot-{i % 500}",
        "context": {},
        "input": {
            "payment": {
                "amount_minor": 100 + i % 5000,
                "currency": "EUR",
                "rail": "sepa",
                "counterparty": {"ref": "urn:paygod:cp:acme", "verified": i % 7 != 0},
            }
        },
    }


def _seed(kernel: Kernel, count: int) -> str:
    def one(i: int) -> str:
        result = kernel.decisions.decide(
            **_request(i),
            packs=None,
            idempotency_key=f"bench-{i}",
            tenant_id="default",
            requested_by="bench",
            owner=None,
            action=None,
        )
        return str(result["decision_id"])

    with ThreadPoolExecutor(16) as pool:  # concurrent callers share group commits
        ids = list(pool.map(one, range(count), chunksize=64))
    return ids[len(ids) // 2]


def _seed_cases(kernel: Kernel, count: int) -> str:
    ids = [
        kernel.cases.open_manual(
            "default",
            subject=f"urn:paygod:agent:bot-{i}",
            alert_type="bench",
            note="seeded",
            actor="bench",
        ).case_id
        for i in range(count)
    ]
    return ids[len(ids) // 2]


def _p95(call: Callable[[], None]) -> float:
    for _ in range(10):
        call()
    samples = []
    for _ in range(SAMPLES):
        started = time.perf_counter()
        call()
        samples.append((time.perf_counter() - started) * 1000)
    return percentile(samples, 0.95)


@benchmark("console_pages")
def console_pages() -> Iterator[Figure]:
    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings(home=Path(tmp), database_url=None, redis_url=None)
        kernel = build_kernel(settings)
        try:
            seeding = time.perf_counter()
            decision_id = _seed(kernel, DECISIONS)
            seeded_in = time.perf_counter() - seeding
            case_id = _seed_cases(kernel, CASES)
            # One browser's loads back to back: timed, not throttled (the limiter is per
            # principal, and a real person does not load 2,000 pages a minute).
            kernel.identity.settings = IdentitySettings(
                rate_principal_per_second=1e6,
                rate_principal_burst=1_000_000,
                rate_tenant_per_second=1e6,
                rate_tenant_burst=1_000_000,
            )
            admin = kernel.identity.create_principal(
                "default", "bench-admin", PrincipalKind.SERVICE, {Role.ADMIN}
            )
            # The console's own exchange: a key signs in, its session rides the cookie.
            key = kernel.identity.issue_key(admin.principal_id).token
            signed_in = kernel.identity.authenticate_bearer(key)
            token = kernel.identity.issue_session(signed_in)["access_token"]
            http = TestClient(create_app(kernel), cookies={"paygod_session": token})

            def get(path: str) -> Callable[[], None]:
                def call() -> None:
                    response = http.get(path)
                    assert response.status_code == 200, (path, response.text[:200])

                return call

            def page(shell: str, data: str) -> Callable[[], None]:
                return lambda: (get(shell)(), get(data)())[0]

            healthz = _p95(get("/healthz"))
            pages = {
                "overview": page("/console/", "/v1/overview"),
                "decision_search": page(
                    "/console/decisions", "/v1/decisions?verdict=allow&limit=100"
                ),
                "decision_by_subject": page(
                    "/console/decisions", "/v1/decisions?subject=urn:paygod:agent:bot-7"
                ),
                "decision": page(
                    f"/console/decisions/{decision_id}", f"/v1/decisions/{decision_id}"
                ),
                "ledger": page("/console/ledger", f"/v1/ledger/entries?after={DECISIONS}"),
                "cases_open": page("/console/cases", "/v1/cases?status=open"),
                "case": page(f"/console/cases/{case_id}", f"/v1/cases/{case_id}"),
                "packs": lambda: (
                    get("/console/packs")(),
                    get("/v1/packs")(),
                    get("/v1/packs/pipeline")(),
                )[0],
            }
            for name, call in pages.items():
                yield Figure(
                    name=f"console_{name}_p95",
                    value=_p95(call),
                    unit="ms",
                    baseline=healthz,
                    baseline_name="healthz_p95",
                    extra={
                        "decisions": DECISIONS,
                        "ledger_entries": kernel.ledger.size,
                        "seeded_seconds": round(seeded_in, 1),
                        "cases": CASES,
                        "target_ms": TARGET_MS,
                    },
                )
        finally:
            kernel.close()
