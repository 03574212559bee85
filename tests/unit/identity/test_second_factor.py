"""The second factor: enrolment bound to an admin-issued one-time token (issue 15, D10), an
admin reset for the real owner, and a per-principal budget for bad codes (D9)."""

from __future__ import annotations

from datetime import timedelta

import pyotp
import pytest

from paygod.bootstrap import Kernel
from paygod.cli.serve import proxy_options
from paygod.identity.model import PrincipalKind, Role
from paygod.identity.service import IdentityService
from paygod.identity.settings import IdentitySettings
from paygod.identity.stores.ratelimit_memory import MemoryRateLimiter
from paygod.kernel.clock import ManualClock
from paygod.kernel.errors import InvalidInput, Unauthorized
from tests.support.http import anonymous_client


def _human(kernel: Kernel, name: str, *roles: Role, tenant: str = "acme") -> tuple[str, dict]:
    principal = kernel.identity.create_principal(tenant, name, PrincipalKind.HUMAN, set(roles))
    key = kernel.identity.issue_key(principal.principal_id).token
    return principal.principal_id, {"Authorization": f"Bearer {key}"}


def _enrol(kernel: Kernel, headers: dict, token: str) -> pyotp.TOTP:
    http = anonymous_client(kernel)
    started = http.post("/v1/identity/me/totp", headers=headers, json={"enrolment_token": token})
    assert started.status_code == 201, started.text
    totp = pyotp.TOTP(started.json()["secret"])
    code = totp.at(kernel.clock.now())
    confirmed = http.post("/v1/identity/me/totp/confirm", headers=headers, json={"code": code})
    assert confirmed.status_code == 200, confirmed.text
    return totp


def _host_token(kernel: Kernel, principal_id: str) -> str:
    target = kernel.identity.principal(principal_id)
    return kernel.identity.totp.issue_enrolment(target, issued_by=None)[0]


def _code(kernel: Kernel, totp: pyotp.TOTP, steps: int = 1) -> str:
    return totp.at(kernel.clock.now().timestamp() + 30 * steps)


@pytest.mark.parametrize("body", [None, {}, {"enrolment_token": "pgenrol_guessed"}])
def test_a_humans_key_alone_cannot_enrol_a_second_factor(kernel: Kernel, body: dict) -> None:
    _, alice = _human(kernel, "alice", Role.ADMIN)
    response = anonymous_client(kernel).post("/v1/identity/me/totp", headers=alice, json=body)
    assert response.status_code in (401, 422), response.text
    alice_id = kernel.identity.list_principals("acme")[0].principal_id
    assert not kernel.identity.totp.enrolled(alice_id)


def test_an_enrolment_token_is_one_use_and_for_one_principal(kernel: Kernel) -> None:
    alice_id, alice = _human(kernel, "alice", Role.ADMIN)
    _, bob = _human(kernel, "bob", Role.AUDITOR)
    token = _host_token(kernel, alice_id)
    http = anonymous_client(kernel)
    stolen = http.post("/v1/identity/me/totp", headers=bob, json={"enrolment_token": token})
    assert stolen.status_code == 422
    assert stolen.json()["errors"][0]["pointer"] == "/enrolment_token"
    _enrol(kernel, alice, token)
    again = http.post("/v1/identity/me/totp", headers=alice, json={"enrolment_token": token})
    assert again.status_code in (409, 422)


def test_an_expired_enrolment_token_is_refused(
    identity: IdentityService, clock: ManualClock
) -> None:
    alice = identity.create_principal("acme", "alice", PrincipalKind.HUMAN, {Role.ADMIN})
    token, expires = identity.totp.issue_enrolment(alice, issued_by=None)
    assert expires == clock.now() + timedelta(seconds=identity.settings.totp_enrolment_ttl_seconds)
    clock.set(expires)
    with pytest.raises(InvalidInput):
        identity.totp.enroll(alice, token)
    with pytest.raises(Unauthorized):
        identity.totp.enroll(alice, None)


def test_a_new_token_voids_the_earlier_one(identity: IdentityService) -> None:
    alice = identity.create_principal("acme", "alice", PrincipalKind.HUMAN, {Role.ADMIN})
    first, _ = identity.totp.issue_enrolment(alice, issued_by=None)
    second, _ = identity.totp.issue_enrolment(alice, issued_by=None)
    with pytest.raises(InvalidInput):
        identity.totp.enroll(alice, first)
    assert identity.totp.enroll(alice, second)[0]


def test_an_admin_with_step_up_resets_a_hijacked_factor(kernel: Kernel) -> None:
    admin_id, admin = _human(kernel, "root", Role.ADMIN)
    admin_totp = _enrol(kernel, admin, _host_token(kernel, admin_id))
    victim_id, victim = _human(kernel, "alice", Role.ADMIN)
    # A thief holding alice's key and an intercepted token enrols first.
    thief_totp = _enrol(kernel, victim, _host_token(kernel, victim_id))
    http = anonymous_client(kernel)
    path = f"/v1/identity/principals/{victim_id}/totp-enrolment"
    assert http.post(path, headers=admin).status_code == 401  # step-up needed
    reset = http.post(path, headers={**admin, "X-Paygod-TOTP": _code(kernel, admin_totp)})
    assert reset.status_code == 201, reset.text
    assert not kernel.identity.totp.enrolled(victim_id)
    body = {"name": "x", "kind": "agent", "roles": ["agent"]}
    thief = http.post(
        "/v1/identity/principals",
        headers={**victim, "X-Paygod-TOTP": _code(kernel, thief_totp, 2)},
        json=body,
    )
    assert thief.status_code == 401  # the thief's factor is gone
    owner = _enrol(kernel, victim, reset.json()["enrolment_token"])
    made = http.post(
        "/v1/identity/principals",
        headers={**victim, "X-Paygod-TOTP": _code(kernel, owner)},
        json=body,
    )
    assert made.status_code == 201, made.text
    since = kernel.clock.now().replace(year=2000)
    audit = [r.event_type for r in kernel.identity.audit.since(since)]
    assert "audit.totp_reset" in audit and "audit.totp_enrolment" in audit


def test_another_tenants_admin_cannot_reset(kernel: Kernel) -> None:
    admin_id, admin = _human(kernel, "root", Role.ADMIN, tenant="globex")
    totp = _enrol(kernel, admin, _host_token(kernel, admin_id))
    victim_id, _ = _human(kernel, "alice", Role.ADMIN)
    response = anonymous_client(kernel).post(
        f"/v1/identity/principals/{victim_id}/totp-enrolment",
        headers={**admin, "X-Paygod-TOTP": _code(kernel, totp)},
    )
    assert response.status_code == 404


def test_agents_enrol_with_their_key(kernel: Kernel) -> None:
    agent = kernel.identity.create_principal("acme", "bot", PrincipalKind.AGENT, {Role.AGENT})
    key = kernel.identity.issue_key(agent.principal_id).token
    response = anonymous_client(kernel).post(
        "/v1/identity/me/totp", headers={"Authorization": f"Bearer {key}"}
    )
    assert response.status_code == 201


def test_bad_codes_lock_the_principals_step_up_whatever_the_address(kernel: Kernel) -> None:
    # The per-address budget is out of the way: as if every guess came from another address.
    kernel.identity.settings = IdentitySettings(auth_failures_per_minute=100_000)
    now = [0.0]
    kernel.identity.limiter = MemoryRateLimiter(now=lambda: now[0])
    admin_id, admin = _human(kernel, "alice", Role.ADMIN)
    totp = _enrol(kernel, admin, _host_token(kernel, admin_id))
    _, other = _human(kernel, "bob", Role.ADMIN)
    http = anonymous_client(kernel)
    body = {"name": "x", "kind": "agent", "roles": ["agent"]}
    right = _code(kernel, totp)
    wrong = [c for c in (f"{n:06d}" for n in range(1000)) if c != right][:5]
    statuses = [
        http.post(
            "/v1/identity/principals", headers={**admin, "X-Paygod-TOTP": c}, json=body
        ).status_code
        for c in wrong
    ]
    assert statuses == [401] * 5
    locked = http.post(
        "/v1/identity/principals", headers={**admin, "X-Paygod-TOTP": right}, json=body
    )
    assert locked.status_code == 429  # even the right code: the step-up is locked
    assert int(locked.headers["retry-after"]) >= 60
    assert "locked" in locked.json()["detail"]
    # Another principal's step-up is not locked.
    bob_step_up = http.post("/v1/identity/principals", headers=other, json=body)
    assert bob_step_up.status_code == 401 and bob_step_up.json()["type"].endswith(
        "/step-up-required"
    )
    now[0] += kernel.identity.settings.totp_lock_seconds / 5 - 1
    still = http.post(
        "/v1/identity/principals", headers={**admin, "X-Paygod-TOTP": right}, json=body
    )
    assert still.status_code == 429
    now[0] += 2  # one guess's worth of budget back
    reopened = http.post(
        "/v1/identity/principals",
        headers={**admin, "X-Paygod-TOTP": right},
        json=body,
    )
    assert reopened.status_code == 201, reopened.text


def test_forwarded_headers_are_believed_only_from_configured_proxies() -> None:
    assert proxy_options("") == {"proxy_headers": False, "forwarded_allow_ips": ""}
    assert proxy_options(" 10.0.0.1, 10.0.0.0/8 ") == {
        "proxy_headers": True,
        "forwarded_allow_ips": ["10.0.0.1", "10.0.0.0/8"],
    }
