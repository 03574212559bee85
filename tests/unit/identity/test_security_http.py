from __future__ import annotations

import pyotp
import pytest

from paygod.bootstrap import Kernel
from paygod.identity.model import PrincipalKind, Role
from tests.support.http import anonymous_client, api_client


def _human(kernel: Kernel, tenant: str, name: str, *roles: Role) -> tuple[str, dict[str, str]]:
    identity = kernel.identity
    principal = identity.create_principal(tenant, name, PrincipalKind.HUMAN, set(roles))
    token = identity.issue_key(principal.principal_id).token
    return principal.principal_id, {"Authorization": f"Bearer {token}"}


def _enrol(kernel: Kernel, headers: dict[str, str]) -> pyotp.TOTP:
    http = anonymous_client(kernel)
    me = http.get("/v1/identity/me", headers=headers).json()
    target = kernel.identity.principal(me["principal_id"])
    token, _ = kernel.identity.totp.issue_enrolment(target, issued_by=None)
    started = http.post("/v1/identity/me/totp", headers=headers, json={"enrolment_token": token})
    assert started.status_code == 201, started.text
    assert started.json()["otpauth_uri"].startswith("otpauth://totp/Paygod:")
    totp = pyotp.TOTP(started.json()["secret"])
    confirmed = http.post(
        "/v1/identity/me/totp/confirm", headers=headers, json={"code": totp.now()}
    )
    assert confirmed.status_code == 200, confirmed.text
    return totp


def test_without_credentials_401_with_challenge(kernel: Kernel) -> None:
    response = anonymous_client(kernel).get("/v1/identity/me")
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["www-authenticate"].startswith("Bearer")
    bad_scheme = anonymous_client(kernel).get(
        "/v1/identity/me", headers={"Authorization": "Basic Zm9vOmJhcg=="}
    )
    assert bad_scheme.status_code == 401


def test_x_api_key_header_works(kernel: Kernel) -> None:
    _, headers = _human(kernel, "acme", "ann", Role.AUDITOR)
    token = headers["Authorization"].removeprefix("Bearer ")
    me = anonymous_client(kernel).get("/v1/identity/me", headers={"X-API-Key": token})
    assert me.status_code == 200 and me.json()["name"] == "ann"
    both = anonymous_client(kernel).get("/v1/identity/me", headers={"X-API-Key": token, **headers})
    assert both.status_code == 401  # two credentials are ambiguous, never silently merged


def test_lower_role_403_other_tenant_404(kernel: Kernel) -> None:
    acme_admin_id, acme_admin = _human(kernel, "acme", "alice", Role.AUDITOR)
    _, globex_auditor = _human(kernel, "globex", "gus", Role.AUDITOR)
    http = anonymous_client(kernel)
    assert (
        http.get(f"/v1/identity/principals/{acme_admin_id}", headers=acme_admin).status_code == 200
    )
    hidden = http.get(f"/v1/identity/principals/{acme_admin_id}", headers=globex_auditor)
    assert hidden.status_code == 404
    missing = http.get("/v1/identity/principals/nope", headers=globex_auditor)
    assert missing.json()["detail"] == hidden.json()["detail"]  # existence does not leak
    listed = http.get("/v1/identity/principals", headers=globex_auditor).json()["principals"]
    assert {p["tenant_id"] for p in listed} == {"globex"}
    denied = http.post(
        "/v1/identity/principals",
        headers=acme_admin,
        json={"name": "eve", "kind": "human", "roles": ["admin"]},
    )
    assert denied.status_code == 403


def test_admin_actions_need_a_fresh_totp_code(kernel: Kernel) -> None:
    _, admin = _human(kernel, "acme", "alice", Role.ADMIN)
    http = anonymous_client(kernel)
    body = {"name": "bot", "kind": "agent", "roles": ["agent"]}
    needs = http.post("/v1/identity/principals", headers=admin, json=body)
    assert needs.status_code == 401 and needs.json()["type"].endswith("/step-up-required")
    totp = _enrol(kernel, admin)
    # Confirming enrolment spent the current code; the next time step is within the window.
    code = totp.at(kernel.clock.now().timestamp() + 30)
    created = http.post(
        "/v1/identity/principals", headers={**admin, "X-Paygod-TOTP": code}, json=body
    )
    assert created.status_code == 201, created.text
    assert created.json()["tenant_id"] == "acme"
    replay = http.post(
        "/v1/identity/principals",
        headers={**admin, "X-Paygod-TOTP": code},
        json={**body, "name": "bot2"},
    )
    assert replay.status_code == 401 and replay.json()["type"].endswith("/step-up-failed")
    service = kernel.identity.create_principal("acme", "ops", PrincipalKind.SERVICE, {Role.ADMIN})
    service_key = kernel.identity.issue_key(service.principal_id).token
    escalate = http.post(
        "/v1/identity/principals",
        headers={"Authorization": f"Bearer {service_key}"},  # not human, not enrolled: no TOTP
        json={**body, "name": "root", "roles": ["platform_admin"]},
    )
    assert escalate.status_code == 403


def test_brute_force_is_throttled_and_audited(kernel: Kernel) -> None:
    http = anonymous_client(kernel)
    bad = {"Authorization": "Bearer pg_aaaaaaaaaaaa_not-the-secret"}
    statuses = [http.get("/v1/identity/me", headers=bad).status_code for _ in range(12)]
    assert statuses[:10] == [401] * 10
    assert statuses[-1] == 429
    throttled = http.get("/v1/identity/me", headers=bad)
    assert int(throttled.headers["retry-after"]) >= 1
    failures = [
        r
        for r in kernel.identity.audit.since(kernel.clock.now().replace(year=2000))
        if r.event_type == "audit.auth_failure"
    ]
    assert len(failures) >= 10 and failures[0].outcome == "denied"
    assert "not-the-secret" not in repr(failures)


def test_rate_limit_429_with_retry_after(kernel: Kernel) -> None:
    from paygod.identity.settings import IdentitySettings

    kernel.identity.settings = IdentitySettings(
        rate_principal_burst=3, rate_principal_per_second=0.05
    )
    http = api_client(kernel)
    statuses = [http.get("/v1/identity/me").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    limited = http.get("/v1/identity/me")
    assert limited.json()["type"].endswith("/rate-limited")
    assert 1 <= int(limited.headers["retry-after"]) <= 20


def test_human_reads_of_audited_resources_are_recorded(kernel: Kernel) -> None:
    principal_id, auditor = _human(kernel, "acme", "ann", Role.AUDITOR)
    http = anonymous_client(kernel)
    response = http.get(
        "/v1/identity/access-log",
        params={"since": "2000-01-01T00:00:00Z"},
        headers={**auditor, "X-Paygod-Reason": "quarterly review"},
    )
    assert response.status_code == 200
    records = [r for r in response.json()["records"] if r["event_type"] == "audit.access"]
    assert records and records[-1]["principal_id"] == principal_id
    assert records[-1]["reason"] == "quarterly review"
    assert records[-1]["action"] == "audit:read"
    if "/v1/decisions/{decision_id}" in http.get("/openapi.json").json()["paths"]:
        http.get("/v1/decisions/d-1", headers={**auditor, "X-Paygod-Reason": "case 7"})
        evidence = http.get(
            "/v1/identity/access-log", params={"since": "2000-01-01T00:00:00Z"}, headers=auditor
        ).json()["records"]
        assert any(r["target"] == "/v1/decisions/d-1" and r["reason"] == "case 7" for r in evidence)
    if getattr(kernel, "ledger", None) is not None:  # sealed with an audit.access event
        sealed = kernel.ledger.history(f"access:{principal_id}", tenant_id="acme")
        assert any(e.payload["reason"] == "quarterly review" for e in sealed)


def test_unmapped_route_is_platform_admin_only(kernel: Kernel) -> None:
    from fastapi import APIRouter

    from paygod.api import app as app_module
    from paygod.api.app import create_app

    extra = APIRouter(prefix="/late")

    @extra.get("/thing/{thing_id}")
    def thing(thing_id: str) -> dict[str, str]:
        return {"thing": thing_id}

    original = app_module.v1_router

    def patched():  # type: ignore[no-untyped-def]
        v1 = original()
        v1.include_router(extra)
        return v1

    from fastapi.testclient import TestClient

    _, admin = _human(kernel, "acme", "alice", Role.ADMIN)
    pytest.MonkeyPatch().setattr(app_module, "v1_router", patched)
    try:
        http = TestClient(create_app(kernel), raise_server_exceptions=False)
    finally:
        app_module.v1_router = original
    assert http.get("/v1/late/thing/1", headers=admin).status_code == 403
    platform = api_client(kernel).headers["authorization"]
    assert http.get("/v1/late/thing/1", headers={"Authorization": platform}).json() == {
        "thing": "1"
    }


def test_session_jwt_round_trip(kernel: Kernel) -> None:
    _, auditor = _human(kernel, "acme", "ann", Role.AUDITOR)
    http = anonymous_client(kernel)
    session = http.post("/v1/identity/sessions", headers=auditor)
    assert session.status_code == 201
    token = session.json()["access_token"]
    me = http.get("/v1/identity/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200 and me.json()["authenticated_by"] == "session"
    forged = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    assert (
        http.get("/v1/identity/me", headers={"Authorization": f"Bearer {forged}"}).status_code
        == 401
    )
