from __future__ import annotations

from datetime import timedelta

import pytest

from paygod.identity import keys
from paygod.identity.model import PrincipalKind, Role
from paygod.identity.service import IdentityService
from paygod.identity.stores.sql import SqlRunner
from paygod.kernel.clock import ManualClock
from paygod.kernel.database import SqliteDatabase
from paygod.kernel.errors import Conflict, InvalidInput, Unauthorized


def _agent(identity: IdentityService, tenant: str = "acme", name: str = "bot") -> str:
    return identity.create_principal(tenant, name, PrincipalKind.AGENT, {Role.AGENT}).principal_id


def test_token_shape_and_hash_only_storage(
    sql_identity: IdentityService, db: SqliteDatabase
) -> None:
    identity = sql_identity
    issued = identity.issue_key(_agent(identity), scopes=["payments:create"])
    prefix, secret = keys.split_token(issued.token) or ("", "")
    assert issued.token.startswith(f"pg_{prefix}_") and prefix == issued.key.prefix
    stored = SqlRunner(db).all("SELECT * FROM identity_api_keys")
    assert secret not in repr(stored)  # only the hash is kept
    assert keys.hash_secret(secret) in repr(stored)
    assert "api_key" not in issued.key.as_dict()


def test_authenticate_and_scopes(identity: IdentityService) -> None:
    issued = identity.issue_key(_agent(identity), scopes=["payments:create"])
    auth = identity.authenticate_key(issued.token)
    assert auth.principal.name == "bot" and auth.scopes == ("payments:create",)
    with pytest.raises(Unauthorized):
        identity.authenticate_key(issued.token[:-1] + ("A" if issued.token[-1] != "A" else "B"))
    with pytest.raises(Unauthorized):
        identity.authenticate_key("pg_short_secret")
    with pytest.raises(InvalidInput):
        identity.issue_key(auth.principal.principal_id, scopes=["money:print"])


def test_revocation_is_immediate(identity: IdentityService) -> None:
    issued = identity.issue_key(_agent(identity))
    identity.authenticate_key(issued.token)
    identity.revoke_key(issued.key.key_id)
    with pytest.raises(Unauthorized, match="revoked"):
        identity.authenticate_key(issued.token)


def test_rotation_kills_old_key_and_keeps_scopes(
    identity: IdentityService, clock: ManualClock
) -> None:
    issued = identity.issue_key(_agent(identity), scopes=["decisions:create"])
    rotated = identity.rotate_key(issued.key.key_id)
    assert rotated.key.scopes == ("decisions:create",)
    assert identity.authenticate_key(rotated.token).key_id == rotated.key.key_id
    with pytest.raises(Unauthorized):
        identity.authenticate_key(issued.token)
    graced = identity.rotate_key(rotated.key.key_id, grace_seconds=60)
    identity.authenticate_key(rotated.token)  # still inside the grace period
    clock.advance(61)
    with pytest.raises(Unauthorized):
        identity.authenticate_key(rotated.token)
    identity.authenticate_key(graced.token)


def test_expiry(identity: IdentityService, clock: ManualClock) -> None:
    issued = identity.issue_key(_agent(identity), expires_at=clock.now() + timedelta(hours=1))
    identity.authenticate_key(issued.token)
    clock.advance(3600)
    with pytest.raises(Unauthorized, match="expired"):
        identity.authenticate_key(issued.token)
    with pytest.raises(InvalidInput):
        identity.issue_key(issued.key.principal_id, expires_at=clock.now())


def test_last_used_is_written_at_most_once_a_minute(
    identity: IdentityService, clock: ManualClock
) -> None:
    issued = identity.issue_key(_agent(identity))
    identity.authenticate_key(issued.token)
    first = identity.key(issued.key.key_id).last_used_at
    assert first == clock.now()
    clock.advance(30)
    identity.authenticate_key(issued.token)
    assert identity.key(issued.key.key_id).last_used_at == first
    clock.advance(31)
    identity.authenticate_key(issued.token)
    assert identity.key(issued.key.key_id).last_used_at == clock.now()


def test_disabled_principal_cannot_authenticate(identity: IdentityService) -> None:
    principal_id = _agent(identity)
    issued = identity.issue_key(principal_id)
    identity.set_disabled(principal_id, True)
    with pytest.raises(Unauthorized):
        identity.authenticate_key(issued.token)


def test_platform_admins_live_in_star_tenant(identity: IdentityService) -> None:
    with pytest.raises(InvalidInput):
        identity.create_principal("acme", "root", PrincipalKind.HUMAN, {Role.PLATFORM_ADMIN})
    principal_id = _agent(identity)
    with pytest.raises(InvalidInput):
        identity.set_roles(principal_id, {Role.PLATFORM_ADMIN})


def test_names_are_unique_per_tenant(identity: IdentityService) -> None:
    _agent(identity, "acme", "bot")
    _agent(identity, "globex", "bot")
    with pytest.raises(Conflict):
        _agent(identity, "acme", "bot")
    assert {t.tenant_id for t in identity.list_tenants()} == {"acme", "globex"}


def test_initialize_once_then_force(identity: IdentityService) -> None:
    admin, issued = identity.initialize("acme", "alice")
    assert admin.roles == {Role.ADMIN} and admin.kind is PrincipalKind.HUMAN
    assert identity.authenticate_key(issued.token).principal == admin
    with pytest.raises(Conflict):
        identity.initialize("acme", "alice")
    again, second = identity.initialize("acme", "alice", force=True)
    assert again.principal_id == admin.principal_id and second.token != issued.token


def test_dev_key_only_on_an_empty_store(identity: IdentityService) -> None:
    issued = identity.dev_key()
    assert issued is not None
    assert identity.authenticate_key(issued.token).principal.is_platform_admin
    assert identity.dev_key() is None
