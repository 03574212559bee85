"""Continuous authentication as a user drives it over HTTP: a human's session sends its
typing; an impostor's typing makes the next sensitive action demand a TOTP code, then
ends the session everywhere; bad signal batches are refused and record nothing."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient

from paygod import bootstrap
from paygod.bootstrap import Kernel, build_kernel
from paygod.contauth import registry, synthetic
from paygod.identity.model import Principal
from paygod.kernel.clock import ManualClock
from paygod.kernel.settings import load_settings
from tests.support.http import anonymous_client, principal_headers
from tests.support.stepup import SecondFactor

ROWS = synthetic.generate()


@pytest.fixture(scope="module")
def kernel(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Kernel]:
    home = tmp_path_factory.mktemp("contauth")
    clock = ManualClock(datetime.now(UTC).replace(microsecond=0))
    real = bootstrap.clock_from_settings
    bootstrap.clock_from_settings = lambda settings: clock  # type: ignore[assignment]
    try:
        built = build_kernel(load_settings(home=home, database_url=None, redis_url=None))
    finally:
        bootstrap.clock_from_settings = real  # type: ignore[assignment]
    yield built
    built.close()


@pytest.fixture(scope="module")
def alice(kernel: Kernel) -> tuple[dict[str, str], Principal, SecondFactor]:
    """A human admin of acme, enrolled in TOTP, whose model learnt subject s001's typing."""
    headers = principal_headers(
        kernel, roles=["admin"], tenant_id="acme", kind="human", name="alice"
    )
    human = next(p for p in kernel.identity.list_principals("acme") if p.name == "alice")
    data = registry.from_file([r for r in ROWS if r.session <= 2], "s001")
    artefact, meta = registry.train(data)
    kernel.contauth.registry.register("acme", human.principal_id, artefact, meta, actor="test")
    return headers, human, SecondFactor(kernel, human)


def _session(kernel: Kernel, key: dict[str, str]) -> tuple[str, TestClient]:
    """A session token, and a client that authenticates with it alone."""
    issued = anonymous_client(kernel).post("/v1/identity/sessions", headers=key).json()
    client = anonymous_client(kernel)
    client.headers["Authorization"] = f"Bearer {issued['access_token']}"
    return str(issued["session_id"]), client


def _typing(subject: str) -> list[dict[str, float]]:
    return [r.as_features() for r in ROWS if r.subject == subject and r.session >= 3]


def _account(client: TestClient, name: str, headers: dict[str, str] | None = None) -> Any:
    body = {"id": name, "ledger": "EUR", "code": "asset"}
    return client.post("/v1/accounts", json=body, headers=headers or {})


def _outbox(kernel: Kernel) -> list[str]:
    rows = kernel.db.connection().execute("SELECT event_type FROM outbox").fetchall()
    return [str(r[0]) for r in rows]


def test_the_genuine_typist_keeps_a_trusted_session(kernel: Kernel, alice: Any) -> None:
    key, _, _ = alice
    sid, http = _session(kernel, key)
    for sample in _typing("s001")[:10]:
        r = http.post(f"/v1/identity/sessions/{sid}/signals", json={"keystrokes": [sample]})
        assert r.status_code == 201, r.text
        assert r.json()["receipt"]["seq"] >= 0
    trust = http.get(f"/v1/identity/sessions/{sid}/trust").json()
    assert trust["state"] == "active" and trust["trust"] >= trust["thresholds"]["step_up"]
    assert _account(http, "genuine-1").status_code == 201  # no step-up asked


def test_an_impostor_must_step_up_then_is_ended(kernel: Kernel, alice: Any) -> None:
    key, _, _ = alice
    sid, http = _session(kernel, key)
    url = f"/v1/identity/sessions/{sid}/signals"
    opened = kernel.clock.now().isoformat()
    kernel.clock.advance(5)  # type: ignore[attr-defined]
    states = []
    for sample in _typing("s007")[:3]:
        states.append(http.post(url, json={"keystrokes": [sample]}).json()["state"])
    assert "step_up_required" in states, states
    refused = _account(http, "impostor-1")
    assert refused.status_code == 401 and refused.json()["type"].endswith("step-up-required")
    assert "contauth.step_up_demanded" in _outbox(kernel)
    before = http.get(f"/v1/identity/sessions/{sid}/trust").json()
    assert before["reasons"] and any("deviations" in r for r in before["reasons"])
    # Typing on, the impostor falls below the lower threshold: the session is over.
    for sample in _typing("s007")[3:15]:
        answer = http.post(url, json={"keystrokes": [sample]})
        if answer.status_code != 201 or answer.json()["state"] == "ended":
            break
    ended = http.get(f"/v1/identity/sessions/{sid}/trust")
    assert ended.status_code == 401 and ended.json()["type"].endswith("session-ended")
    assert "contauth.session_ended" in _outbox(kernel)
    # The human's own key still works and sees the ended session and its history.
    seen = anonymous_client(kernel).get(f"/v1/identity/sessions/{sid}/trust", headers=key)
    assert seen.json()["state"] == "ended"
    # As it stood before the first signal: read back from the sealed entries.
    back = anonymous_client(kernel).get(
        f"/v1/identity/sessions/{sid}/trust", params={"as_of": opened}, headers=key
    )
    assert back.json()["state"] == "active" and back.json()["trust"] == 1.0, back.text


def test_a_step_up_with_totp_restores_the_session(kernel: Kernel, alice: Any) -> None:
    key, _, factor = alice
    sid, http = _session(kernel, key)
    for sample in _typing("s004")[:3]:
        http.post(f"/v1/identity/sessions/{sid}/signals", json={"keystrokes": [sample]})
    assert _account(http, "stepped-0").status_code == 401
    assert _account(http, "stepped-1", factor.header()).status_code == 201
    trust = http.get(f"/v1/identity/sessions/{sid}/trust").json()
    assert trust["state"] == "active" and trust["trust"] == 1.0
    assert _account(http, "stepped-2").status_code == 201  # the demand was met once


def test_bad_batches_are_refused_with_pointers_and_record_nothing(
    kernel: Kernel, alice: Any
) -> None:
    key, _, _ = alice
    sid, http = _session(kernel, key)
    url = f"/v1/identity/sessions/{sid}/signals"
    good = _typing("s001")[0]
    size = kernel.ledger.size
    cases = [
        ({"keystrokes": [{**good, "H.t": -0.05}]}, "/keystrokes/0/H.t"),
        ({"keystrokes": [{**good, "DD.t.i": 60.0}]}, "/keystrokes/0/DD.t.i"),
        ({"keystrokes": [good] * 51}, "/keystrokes"),
        ({"keystrokes": [{"the text": 0.1}]}, "/keystrokes/0/the text"),
    ]
    for body, pointer in cases:
        r = http.post(url, json=body)
        assert r.status_code == 422, r.text
        assert pointer in [e["pointer"] for e in r.json()["errors"]], r.json()
    nan = http.post(url, content=b'{"keystrokes": [{"H.t": NaN}]}',
                    headers={"Content-Type": "application/json"})  # fmt: skip
    assert nan.status_code in (400, 422)
    # Another principal of the same tenant may not feed alice's session.
    bob = principal_headers(kernel, roles=["admin"], tenant_id="acme", kind="human", name="bob")
    r = anonymous_client(kernel).post(url, json={"keystrokes": [good]}, headers=bob)
    assert r.status_code == 403 and r.json()["errors"][0]["pointer"] == "/session_id"
    # Another tenant does not even learn the session exists.
    eve = principal_headers(kernel, roles=["admin"], tenant_id="globex", kind="human", name="eve")
    assert (
        anonymous_client(kernel).post(url, json={"keystrokes": [good]}, headers=eve).status_code
        == 404
    )
    assert kernel.ledger.size == size
    assert http.get(f"/v1/identity/sessions/{sid}/trust").json()["events"] == 0


def test_thresholds_are_the_tenants_and_sealed(kernel: Kernel, alice: Any) -> None:
    key, _, _ = alice
    client = anonymous_client(kernel)
    bad = client.put(
        "/v1/contauth/thresholds", json={"step_up": 0.2, "terminate": 0.4}, headers=key
    )
    assert bad.status_code == 422 and bad.json()["errors"][0]["pointer"] == "/terminate"
    ok = client.put(
        "/v1/contauth/thresholds", json={"step_up": 0.55, "terminate": 0.3}, headers=key
    )
    assert ok.status_code == 200 and ok.json()["receipt"] is not None, ok.text
    assert client.get("/v1/contauth/thresholds", headers=key).json()["step_up"] == 0.55
    models = client.get(f"/v1/contauth/models/{alice[1].principal_id}", headers=key).json()
    assert models["models"][0]["detector"] == "random_forest" and models["models"][0]["active"]
