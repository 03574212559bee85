"""A session is worth no more than the credential it came from (issue 15, D3), and a
revocation ends a key whatever rotation grace it was given (D4)."""

from __future__ import annotations

from datetime import timedelta

import jwt
import pytest

from paygod.bootstrap import Kernel
from paygod.identity.model import PrincipalKind, Role
from paygod.identity.service import IdentityService
from paygod.kernel.clock import ManualClock, parse_instant
from paygod.kernel.errors import Unauthorized
from tests.support.http import anonymous_client


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _service_admin(kernel: Kernel, name: str = "ops") -> str:
    identity = kernel.identity
    return identity.create_principal("acme", name, PrincipalKind.SERVICE, {Role.ADMIN}).principal_id


@pytest.mark.parametrize(
    ("scopes", "refused", "allowed"),
    [
        (["ledger:read"], ("POST", "/v1/accounts"), ("GET", "/v1/ledger/entries")),
        (["accounts:read"], ("POST", "/v1/identity/principals"), ("GET", "/v1/accounts")),
        (["identity:*"], ("GET", "/v1/accounts"), ("GET", "/v1/identity/principals")),
    ],
)
def test_a_session_keeps_the_scopes_of_the_key_that_minted_it(
    kernel: Kernel, scopes: list[str], refused: tuple[str, str], allowed: tuple[str, str]
) -> None:
    admin = _service_admin(kernel)
    key = kernel.identity.issue_key(admin, scopes=scopes).token
    http = anonymous_client(kernel)
    body = {"name": "x", "kind": "agent", "roles": ["agent"]}
    if refused[1] == "/v1/accounts":
        body = {"id": "esc-1", "ledger": "EUR", "code": "asset"}
    minted = http.post("/v1/identity/sessions", headers=_bearer(key))
    assert minted.status_code == 201, minted.text
    assert minted.json()["scopes"] == scopes
    session = minted.json()["access_token"]
    for credential in (key, session):
        denied = http.request(*refused, headers=_bearer(credential), json=body)
        assert denied.status_code == 403, (credential[:10], denied.text)
        ok = http.request(*allowed, headers=_bearer(credential))
        assert ok.status_code == 200, ok.text
    # A session minted from the scoped session is scoped too.
    again = http.post("/v1/identity/sessions", headers=_bearer(session)).json()["access_token"]
    assert http.request(*refused, headers=_bearer(again), json=body).status_code == 403


def test_revoking_the_key_ends_its_sessions_and_their_renewals(kernel: Kernel) -> None:
    admin = _service_admin(kernel)
    issued = kernel.identity.issue_key(admin)
    http = anonymous_client(kernel)
    session = http.post("/v1/identity/sessions", headers=_bearer(issued.token)).json()
    renewed = http.post("/v1/identity/sessions", headers=_bearer(session["access_token"])).json()
    other = kernel.identity.issue_key(admin).token  # the principal's other key lives on
    other_session = http.post("/v1/identity/sessions", headers=_bearer(other)).json()
    kernel.identity.revoke_key(issued.key.key_id)
    for token in (issued.token, session["access_token"], renewed["access_token"]):
        assert http.get("/v1/identity/me", headers=_bearer(token)).status_code == 401
        assert http.post("/v1/identity/sessions", headers=_bearer(token)).status_code == 401
    assert (
        http.get("/v1/identity/me", headers=_bearer(other_session["access_token"])).status_code
        == 200
    )


def test_disabling_the_principal_ends_its_sessions(kernel: Kernel) -> None:
    agent = kernel.identity.create_principal("acme", "bot", PrincipalKind.AGENT, {Role.AGENT})
    key = kernel.identity.issue_key(agent.principal_id).token
    http = anonymous_client(kernel)
    session = http.post("/v1/identity/sessions", headers=_bearer(key)).json()["access_token"]
    kernel.identity.set_disabled(agent.principal_id, True)
    assert http.get("/v1/identity/me", headers=_bearer(session)).status_code == 401


def test_a_session_never_outlives_its_key_nor_renews_itself(
    identity: IdentityService, clock: ManualClock
) -> None:
    principal = identity.create_principal("acme", "bot", PrincipalKind.AGENT, {Role.AGENT})
    ttl = identity.settings.session_ttl_seconds
    short = identity.issue_key(principal.principal_id, expires_at=clock.now() + timedelta(days=60))
    auth = identity.authenticate_key(short.token)
    first = identity.issue_session(auth)
    claims = jwt.decode(first["access_token"], options={"verify_signature": False})
    assert claims["exp"] == int((clock.now() + timedelta(seconds=ttl)).timestamp())
    assert claims["key"] == short.key.key_id

    # Minted from a session, later: the same absolute end, never a fresh TTL.
    clock.advance(ttl // 2)
    renewed = identity.issue_session(identity.authenticate_bearer(first["access_token"]))
    renewed_claims = jwt.decode(renewed["access_token"], options={"verify_signature": False})
    assert renewed_claims["exp"] == claims["exp"]
    assert renewed["expires_in"] <= ttl // 2 + 1

    # A key expiring in 10 s caps the session at 10 s.
    brief = identity.issue_key(
        principal.principal_id, expires_at=clock.now() + timedelta(seconds=10)
    )
    capped = identity.issue_session(identity.authenticate_key(brief.token))
    assert capped["expires_in"] == 10
    clock.advance(11 + identity.settings.token_leeway_seconds)
    with pytest.raises(Unauthorized):
        identity.authenticate_bearer(capped["access_token"])


def test_a_session_from_a_key_in_rotation_grace_ends_with_the_grace(
    identity: IdentityService, clock: ManualClock
) -> None:
    principal = identity.create_principal("acme", "bot", PrincipalKind.AGENT, {Role.AGENT})
    old = identity.issue_key(principal.principal_id)
    identity.rotate_key(old.key.key_id, grace_seconds=120)
    session = identity.issue_session(identity.authenticate_key(old.token))
    assert session["expires_in"] == 120
    clock.advance(121)
    with pytest.raises(Unauthorized):
        identity.authenticate_bearer(session["access_token"])


def test_a_session_naming_another_principals_key_is_refused(identity: IdentityService) -> None:
    bot = identity.create_principal("acme", "bot", PrincipalKind.AGENT, {Role.AGENT})
    eve = identity.create_principal("acme", "eve", PrincipalKind.AGENT, {Role.AGENT})
    bots_key = identity.issue_key(bot.principal_id)
    eves = identity.authenticate_key(identity.issue_key(eve.principal_id).token)
    # A token signed by the kernel but pairing eve with bot's key (as a bug could).
    forged = identity.sessions.issue(
        eves.principal, identity.clock.now() + timedelta(seconds=60), key_id=bots_key.key.key_id
    )
    with pytest.raises(Unauthorized):
        identity.authenticate_bearer(forged["access_token"])


@pytest.mark.parametrize("grace", [30, 3600, 86_400])
def test_revoking_a_key_in_rotation_grace_ends_it_now(
    identity: IdentityService, clock: ManualClock, grace: int
) -> None:
    principal = identity.create_principal("acme", "bot", PrincipalKind.AGENT, {Role.AGENT})
    old = identity.issue_key(principal.principal_id)
    new = identity.rotate_key(old.key.key_id, grace_seconds=grace)
    assert identity.authenticate_key(old.token)  # in its grace
    revoked = identity.revoke_key(old.key.key_id)
    assert revoked.revoked_at == clock.now()
    with pytest.raises(Unauthorized):
        identity.authenticate_key(old.token)
    assert identity.authenticate_key(new.token)  # the replacement is not what was named


def test_revoking_the_replacement_also_ends_the_replaced_keys_grace(
    identity: IdentityService, clock: ManualClock
) -> None:
    principal = identity.create_principal("acme", "bot", PrincipalKind.AGENT, {Role.AGENT})
    first = identity.issue_key(principal.principal_id)
    second = identity.rotate_key(first.key.key_id, grace_seconds=3600)
    third = identity.rotate_key(second.key.key_id, grace_seconds=3600)
    assert third.key.rotated_from == second.key.key_id
    identity.revoke_key(third.key.key_id)
    for token in (first.token, second.token, third.token):
        with pytest.raises(Unauthorized):
            identity.authenticate_key(token)


def test_an_earlier_revocation_is_kept_and_rotation_never_extends_a_grace(
    identity: IdentityService, clock: ManualClock
) -> None:
    principal = identity.create_principal("acme", "bot", PrincipalKind.AGENT, {Role.AGENT})
    key = identity.issue_key(principal.principal_id)
    first = identity.revoke_key(key.key.key_id).revoked_at
    clock.advance(5)
    assert identity.revoke_key(key.key.key_id).revoked_at == first
    live = identity.issue_key(principal.principal_id)
    identity.rotate_key(live.key.key_id, grace_seconds=60)
    clock.advance(10)
    identity.rotate_key(live.key.key_id, grace_seconds=86_400)  # rotated again, in its grace
    clock.advance(51)
    with pytest.raises(Unauthorized):
        identity.authenticate_key(live.token)


def test_revoke_over_http_ends_a_grace_key(kernel: Kernel) -> None:
    from tests.support.http import api_client

    agent = kernel.identity.create_principal("acme", "bot", PrincipalKind.AGENT, {Role.AGENT})
    old = kernel.identity.issue_key(agent.principal_id)
    admin = api_client(kernel)
    rotated = admin.post(
        f"/v1/identity/keys/{old.key.key_id}/rotate", json={"grace_seconds": 86_400}
    )
    assert rotated.status_code == 201
    revoked = admin.delete(f"/v1/identity/keys/{old.key.key_id}")
    assert revoked.status_code == 200
    assert parse_instant(revoked.json()["revoked_at"]) <= kernel.clock.now()
    http = anonymous_client(kernel)
    assert http.get("/v1/identity/me", headers=_bearer(old.token)).status_code == 401
