"""Upgrading an identity store from identity_0001 (issue 15): principals keep their rows,
external ids become unique per tenant, plaintext secrets are sealed at the next start."""

from __future__ import annotations

import pyotp
from alembic import command

from paygod.identity.model import PrincipalKind, Role
from paygod.identity.sealing import SEALED_PREFIX, SecretBox
from paygod.identity.service import IdentityService
from paygod.identity.stores.sql import SqlRunner
from paygod.kernel.clock import SystemClock
from paygod.kernel.database import Database, applied_heads, migrate
from paygod.kernel.migrations.runner import alembic_config
from tests.integration.test_owner_migrations import _execute, old_db  # noqa: F401 - fixture

DN = "cert:CN=agent-7,O=acme"


def test_an_identity_0001_store_upgrades(old_db: Database) -> None:  # noqa: F811
    command.upgrade(alembic_config(old_db.sqlalchemy_url), "identity_0001")
    _execute(
        old_db,
        "INSERT INTO identity_principals (principal_id, tenant_id, kind, name, roles,"
        " created_at, disabled, external_id) VALUES ('p1', 'globex', 'agent', 'a', '[\"agent\"]',"
        f" '2026-01-01T00:00:00Z', 0, '{DN}')",
    )
    secret = pyotp.random_base32()
    _execute(
        old_db,
        "INSERT INTO identity_totp (principal_id, secret, confirmed, last_counter, created_at)"
        f" VALUES ('p1', '{secret}', 1, NULL, '2026-01-01T00:00:00Z')",
    )
    _execute(
        old_db,
        "INSERT INTO identity_api_keys (key_id, prefix, principal_id, tenant_id, secret_hash,"
        " scopes, created_at) VALUES ('k1', 'aaaaaaaaaaaa', 'p1', 'globex', 'h', '[]',"
        " '2026-01-01T00:00:00Z')",
    )
    migrate(old_db)
    assert "identity_0002" in applied_heads(old_db)

    identity = IdentityService(old_db, SystemClock(), box=SecretBox.ephemeral())
    assert identity.seal_secrets_at_rest() == 1
    old = identity.principal("p1")
    assert old.external_id == DN and old.created_by is None and old.roles == {Role.AGENT}
    assert identity.key("k1").rotated_from is None
    identity.create_principal("acme", "a", PrincipalKind.AGENT, {Role.AGENT}, external_id=DN)
    assert {p.tenant_id for p in identity.by_external_id(DN)} == {"acme", "globex"}
    row = SqlRunner(old_db).one("SELECT secret FROM identity_totp WHERE principal_id = 'p1'")
    stored = row[0] if row else ""
    assert stored.startswith(SEALED_PREFIX)
    assert identity.totp.verify("p1", pyotp.TOTP(secret).now())
