"""POST /v1/decisions and POST /v1/payments through api/hotpath.py: which requests it
serves itself, which it hands to the FastAPI route (with the body intact), and that both
answer alike."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from starlette.types import Receive, Scope, Send

from paygod import bootstrap
from paygod.api.hotpath import HotPaths
from paygod.bootstrap import Kernel, build_kernel
from paygod.kernel.settings import load_settings
from tests.e2e.test_decisions_http import body
from tests.support.accounts import open_funded_payer
from tests.support.http import api_client


@pytest.fixture
def kernel(paygod_home: Path, tmp_path: Path) -> Iterator[Kernel]:
    built = build_kernel(load_settings(home=paygod_home, packs=tmp_path / "no-packs"))
    try:
        yield built
    finally:
        built.close()


class Spy:
    """Sits behind HotPaths and records what reaches FastAPI (method, path, body)."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.seen: list[tuple[str, str, bytes]] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        message = await receive()
        received = message.get("body", b"")
        self.seen.append((scope["method"], scope["path"], received))

        async def again() -> Any:
            return {"type": "http.request", "body": received, "more_body": False}

        await self.app(scope, again, send)


@pytest.fixture
def wired(kernel: Kernel) -> tuple[TestClient, Spy]:
    client = api_client(kernel)
    client.get("/healthz")  # builds the middleware stack
    layer: Any = client.app.middleware_stack  # type: ignore[attr-defined]
    while not isinstance(layer, HotPaths):
        layer = layer.app
    spy = Spy(layer.app)
    layer.app = spy
    return client, spy


def decide(client: TestClient, payload: Any, key: str | None = "k", **headers: str) -> Any:
    if key is not None:
        headers["Idempotency-Key"] = key
    return client.post("/v1/decisions", json=payload, headers=headers)


def test_a_valid_request_is_sealed_without_reaching_fastapi(
    wired: tuple[TestClient, Spy], kernel: Kernel
) -> None:
    client, spy = wired
    first = decide(client, body())
    assert first.status_code == 201, first.text
    assert first.headers["content-type"] == "application/json"
    assert first.headers["x-request-id"]  # EdgeMiddleware still wraps the hot path
    sealed = first.json()
    entry = kernel.ledger.get(sealed["ledger"]["seq"])
    assert entry is not None and entry.payload["decision_id"] == sealed["decision_id"]
    again = decide(client, body())
    assert again.status_code == 200
    assert again.json()["decision_id"] == sealed["decision_id"]
    assert again.json()["replayed"] is True
    assert [s for s in spy.seen if s[1] == "/v1/decisions"] == []


class ThreadHops:
    """Counts the thread-pool hops the hot path makes (anyio's run_sync, wrapped)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        from paygod.api import hotpath

        self.calls = 0
        real = hotpath.to_thread.run_sync

        async def counted(*args: Any, **kwargs: Any) -> Any:
            self.calls += 1
            return await real(*args, **kwargs)

        monkeypatch.setattr(hotpath.to_thread, "run_sync", counted)


def test_on_sqlite_a_decision_is_sealed_on_the_event_loop_without_a_thread_hop(
    wired: tuple[TestClient, Spy], kernel: Kernel, monkeypatch: pytest.MonkeyPatch
) -> None:
    client, _ = wired
    hops = ThreadHops(monkeypatch)
    responses = [decide(client, body(), key=f"loop-{i}") for i in range(3)]
    assert [r.status_code for r in responses] == [201, 201, 201]
    assert hops.calls == 0
    seqs = [r.json()["ledger"]["seq"] for r in responses]
    assert seqs == sorted(seqs) and kernel.ledger.verify().ok
    refused = decide(client, {**body(), "packs": ["no-such-pack"]}, key="loop-bad")
    assert refused.status_code == 422  # a domain error raised on the loop, same handler
    assert refused.json()["errors"][0]["pointer"] == "/packs/0"


def test_where_reads_are_network_round_trips_the_steps_run_in_one_thread_hop(
    wired: tuple[TestClient, Spy], kernel: Kernel, monkeypatch: pytest.MonkeyPatch
) -> None:
    client, _ = wired
    monkeypatch.setattr(kernel.db, "dialect", "postgres")  # as the PostgreSQL database says
    hops = ThreadHops(monkeypatch)
    first = decide(client, body(), key="threaded")
    assert first.status_code == 201, first.text
    assert hops.calls == 1
    again = decide(client, body(), key="threaded")
    assert again.status_code == 200 and again.json()["replayed"] is True
    monkeypatch.setattr(kernel.db, "dialect", "sqlite")
    with_redis = kernel.settings.model_copy(update={"redis_url": "redis://127.0.0.1:6379/0"})
    assert not bootstrap.serves_locally(with_redis, kernel.db)  # rate limits in Redis: network
    monkeypatch.setattr(bootstrap, "serves_locally", lambda settings, db: False)
    assert decide(client, body(), key="threaded-redis").status_code == 201
    assert hops.calls == 3


def test_a_token_that_may_need_the_network_to_verify_is_checked_off_the_loop(
    wired: tuple[TestClient, Spy], kernel: Kernel, monkeypatch: pytest.MonkeyPatch
) -> None:
    client, _ = wired
    monkeypatch.setattr(kernel.identity, "verifies_locally", lambda token: False)  # OIDC
    hops = ThreadHops(monkeypatch)
    response = decide(client, body(), key="oidc-like")
    assert response.status_code == 201, response.text
    assert hops.calls == 1


def test_domain_errors_on_the_hot_path_use_the_apps_handlers(
    wired: tuple[TestClient, Spy], kernel: Kernel
) -> None:
    client, spy = wired
    assert decide(client, body()).status_code == 201
    size = kernel.ledger.size
    conflict = decide(client, body(amount=99))
    assert conflict.status_code == 409
    assert conflict.headers["content-type"].startswith("application/problem+json")
    assert conflict.json()["instance"] == "/v1/decisions"
    invalid = decide(client, body(amount="12"), key="other")  # the pack's input schema
    assert invalid.status_code == 422
    pointers = [e["pointer"] for e in invalid.json()["errors"]]
    assert "/input/payment/amount_minor" in pointers
    anonymous = decide(client, body(), key="anon", Authorization="Bearer pg_nope")
    assert anonymous.status_code == 401
    assert anonymous.headers["www-authenticate"].startswith("Bearer")
    assert kernel.ledger.size == size
    assert [s for s in spy.seen if s[1] == "/v1/decisions"] == []


def test_the_permission_check_applies_on_the_hot_path(kernel: Kernel) -> None:
    from tests.support.http import principal_headers

    auditor = api_client(kernel, headers=principal_headers(kernel, roles=["auditor"]))
    size = kernel.ledger.size
    refused = auditor.post("/v1/decisions", json=body(), headers={"Idempotency-Key": "x"})
    assert refused.status_code == 403, refused.text
    assert kernel.ledger.size == size


@pytest.mark.parametrize(
    ("payload", "key", "content_type", "pointer"),
    [
        (body(extra_field=1), "k", None, "/extra_field"),
        ({"subject": "s"}, "k", None, "/input"),
        (body(), None, None, "#header/Idempotency-Key"),
        (body(), "x" * 201, None, "#header/Idempotency-Key"),
        (body(), "k", "text/plain", None),
    ],
)
def test_anything_else_reaches_the_fastapi_route_with_its_body(
    wired: tuple[TestClient, Spy],
    kernel: Kernel,
    payload: Any,
    key: str | None,
    content_type: str | None,
    pointer: str | None,
) -> None:
    client, spy = wired
    headers = {"Content-Type": content_type} if content_type else {}
    response = decide(client, payload, key, **headers)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    if pointer is not None:
        assert pointer in [e["pointer"] for e in response.json()["errors"]]
    assert [(m, p) for m, p, _ in spy.seen] == [("POST", "/v1/decisions")]
    assert spy.seen[0][2] == response.request.content  # replayed byte for byte
    assert kernel.ledger.size == 0


def test_other_routes_pass_through(wired: tuple[TestClient, Spy]) -> None:
    client, spy = wired
    assert client.get("/v1/packs").status_code == 200
    assert client.post("/v1/decisions/x").status_code == 405
    assert [(m, p) for m, p, _ in spy.seen] == [("GET", "/v1/packs"), ("POST", "/v1/decisions/x")]


def _fund(kernel: Kernel) -> None:

    open_funded_payer(kernel.accounting, amount=50_000_000)


def payment_body(amount: Any = 12_500) -> dict[str, Any]:
    from tests.unit.payments.support import US_BANK

    return {
        "payer_account": "agent-1",
        "payee": US_BANK,
        "amount": amount,
        "currency": "USD",
        "purpose": "invoice 42",
        "metadata": {"counterparty_verified": True},
    }


def test_a_payment_is_created_on_the_hot_path(
    wired: tuple[TestClient, Spy], kernel: Kernel, monkeypatch: pytest.MonkeyPatch
) -> None:
    client, spy = wired
    _fund(kernel)
    hops = ThreadHops(monkeypatch)
    created = client.post("/v1/payments", json=payment_body(), headers={"Idempotency-Key": "p"})
    assert created.status_code == 201, created.text
    payment = kernel.payments.get(created.json()["payment_id"])
    answered = created.json()
    assert answered.pop("receipt")["seq"] >= 0  # what was sealed (docs/ledger.md#receipts)
    assert answered == payment.as_dict()
    assert payment.status.value == "held"
    assert created.headers["location"] == f"/v1/payments/{payment.payment_id}"
    again = client.post("/v1/payments", json=payment_body(), headers={"Idempotency-Key": "p"})
    assert again.status_code == 200 and again.json()["payment_id"] == payment.payment_id
    clash = client.post("/v1/payments", json=payment_body(9), headers={"Idempotency-Key": "p"})
    assert clash.status_code == 409
    assert clash.headers["content-type"].startswith("application/problem+json")
    keyless = client.post("/v1/payments", json=payment_body())  # the key is optional here
    assert keyless.status_code == 201, keyless.text
    assert keyless.json()["payment_id"] != payment.payment_id
    assert [s for s in spy.seen if s[1] == "/v1/payments"] == []
    assert hops.calls == 0  # SQLite: every one of them served on the event loop


def test_a_bad_payment_reaches_the_fastapi_route(
    wired: tuple[TestClient, Spy], kernel: Kernel
) -> None:
    client, spy = wired
    size = kernel.ledger.size
    response = client.post(
        "/v1/payments", json=payment_body("12"), headers={"Idempotency-Key": "b"}
    )
    assert response.status_code == 422, response.text
    assert "/amount" in [e["pointer"] for e in response.json()["errors"]]
    assert [(m, p) for m, p, _ in spy.seen] == [("POST", "/v1/payments")]
    assert kernel.ledger.size == size


def test_metrics_label_the_hot_path_with_the_route_template(
    wired: tuple[TestClient, Spy],
) -> None:
    client, _ = wired
    assert decide(client, body()).status_code == 201
    metrics = client.get("/metrics").text
    assert 'paygod_http_requests_total{method="POST",route="/decisions",status="201"}' in metrics


def test_the_hot_path_resolves_each_routes_permission(
    wired: tuple[TestClient, Spy], kernel: Kernel
) -> None:
    # An unmapped route is refused to everyone but platform admins: an agent being served
    # proves the hot path looked up the same route template as FastAPI would.
    from tests.support.http import principal_headers

    client, spy = wired
    _fund(kernel)
    agent = principal_headers(kernel, roles=["agent"], tenant_id="default")
    operator = principal_headers(kernel, roles=["operator"], tenant_id="default")
    # Scope `own`: an agent pays only from an account it owns.
    owner = str(client.get("/v1/identity/me", headers=agent).json()["principal_id"])
    spy.seen.clear()  # that read went through FastAPI, as it should
    open_funded_payer(kernel.accounting, "agent-own", 1_000_000, owner=owner)
    paid = client.post(
        "/v1/payments",
        json={**payment_body(), "payer_account": "agent-own"},
        headers={**agent, "Idempotency-Key": "a1"},
    )
    assert paid.status_code == 201, paid.text
    decided = client.post("/v1/decisions", json=body(), headers={**agent, "Idempotency-Key": "a2"})
    assert decided.status_code == 201, decided.text
    refused = client.post(
        "/v1/payments", json=payment_body(), headers={**operator, "Idempotency-Key": "o1"}
    )
    assert refused.status_code == 403, refused.text
    assert spy.seen == []


def test_rate_limits_and_brute_force_throttling_apply_on_the_hot_path(
    wired: tuple[TestClient, Spy], kernel: Kernel
) -> None:
    from paygod.identity.settings import IdentitySettings

    client, spy = wired
    kernel.identity.settings = IdentitySettings(
        rate_principal_burst=3, rate_principal_per_second=0.05, auth_failures_per_minute=2
    )
    statuses = [decide(client, body(), key=f"r{i}").status_code for i in range(4)]
    assert statuses == [201, 201, 201, 429]
    limited = decide(client, body(), key="r9")
    assert limited.json()["type"].endswith("/rate-limited")
    assert 1 <= int(limited.headers["retry-after"]) <= 20
    bad = "Bearer pg_aaaaaaaaaaaa_not-the-secret"
    guesses = [decide(client, body(), key="g", Authorization=bad).status_code for _ in range(3)]
    assert guesses == [401, 401, 429]
    decisions = [e for e in kernel.ledger.iter_entries() if e.kind == "decision"]
    assert len(decisions) == 3
    assert spy.seen == []


def test_a_server_app_freezes_its_startup_heap_and_shortens_gil_turns_once_built(
    paygod_home: Path, tmp_path: Path
) -> None:
    # Full collections would otherwise walk the whole start-up heap under the GIL, a pause
    # every in-flight request waits out; and the ledger writer would wait up to 5 ms for
    # the GIL after each SQLite call (api/app.py, prepare_server_process).
    import gc
    import sys

    from paygod.api.app import create_app
    from paygod.kernel.interpreter import GIL_TURN_SECONDS

    app = create_app(settings=load_settings(home=paygod_home, packs=tmp_path / "no-packs"))
    app.state.freeze_heap = True
    gc.unfreeze()
    before = sys.getswitchinterval()
    sys.setswitchinterval(0.005)
    try:
        with TestClient(app) as client:
            assert app.state.kernel is not None
            assert gc.get_freeze_count() > 0
            assert sys.getswitchinterval() == pytest.approx(GIL_TURN_SECONDS)
            assert client.get("/healthz").status_code == 200
    finally:
        gc.unfreeze()
        sys.setswitchinterval(before)
    plain = create_app(settings=load_settings(home=paygod_home, packs=tmp_path / "no-packs"))
    with TestClient(plain):
        assert gc.get_freeze_count() == 0
        assert sys.getswitchinterval() == pytest.approx(before)
