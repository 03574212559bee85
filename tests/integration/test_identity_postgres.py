"""The identity store on PostgreSQL: the same SQL as SQLite, in an isolated schema."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import psycopg
import pyotp
import pytest

from paygod.identity.model import PrincipalKind, Role
from paygod.identity.service import IdentityService
from paygod.identity.settings import IdentitySettings
from paygod.kernel.clock import SystemClock
from paygod.kernel.database import PostgresDatabase, migrate
from paygod.kernel.errors import Conflict, Unauthorized


@pytest.fixture
def identity(postgres_url: str) -> Iterator[IdentityService]:
    schema = f"t_{uuid.uuid4().hex}"
    with psycopg.connect(postgres_url, autocommit=True) as admin:
        admin.execute(f"CREATE SCHEMA {schema}")
    db = PostgresDatabase(f"{postgres_url}?options=-csearch_path%3D{schema}")
    try:
        migrate(db)
        yield IdentityService(db, SystemClock(), settings=IdentitySettings())
    finally:
        db.close()
        with psycopg.connect(postgres_url, autocommit=True) as admin:
            admin.execute(f"DROP SCHEMA {schema} CASCADE")


def test_key_lifecycle_on_postgres(identity: IdentityService) -> None:
    agent = identity.create_principal("acme", "bot", PrincipalKind.AGENT, {Role.AGENT})
    with pytest.raises(Conflict):
        identity.create_principal("acme", "bot", PrincipalKind.AGENT, {Role.AGENT})
    issued = identity.issue_key(agent.principal_id, scopes=["payments:create"])
    assert identity.authenticate_key(issued.token).principal == agent
    rotated = identity.rotate_key(issued.key.key_id)
    with pytest.raises(Unauthorized):
        identity.authenticate_key(issued.token)
    assert identity.authenticate_key(rotated.token).scopes == ("payments:create",)
    assert identity.key(rotated.key.key_id).last_used_at is not None


def test_totp_replay_and_consent_on_postgres(identity: IdentityService) -> None:
    human = identity.create_principal("acme", "ann", PrincipalKind.HUMAN, {Role.ADMIN})
    token, _ = identity.totp.issue_enrolment(human, issued_by=None)
    secret, _ = identity.totp.enroll(human, token)
    totp = pyotp.TOTP(secret)
    now = identity.clock.now().timestamp()
    assert identity.totp.confirm(human.principal_id, totp.at(now))
    code = totp.at(now + 30)
    assert identity.totp.verify(human.principal_id, code)
    assert not identity.totp.verify(human.principal_id, code)  # replay refused

    identity.consent.record("acme", "urn:subject:1", "marketing", granted=True, actor="ann")
    assert identity.consent.check("acme", "urn:subject:1", "marketing")
    identity.consent.record("acme", "urn:subject:1", "marketing", granted=False, actor="ann")
    assert not identity.consent.check("acme", "urn:subject:1", "marketing")
    assert not identity.consent.check("globex", "urn:subject:1", "marketing")


def test_revocation_ends_grace_and_sessions_on_postgres(identity: IdentityService) -> None:
    agent = identity.create_principal("acme", "bot", PrincipalKind.AGENT, {Role.AGENT})
    first = identity.issue_key(agent.principal_id, scopes=["ledger:read"])
    second = identity.rotate_key(first.key.key_id, grace_seconds=3600)
    session = identity.issue_session(identity.authenticate_key(first.token))
    assert identity.authenticate_bearer(session["access_token"]).scopes == ("ledger:read",)
    identity.revoke_key(second.key.key_id)  # the replacement: the grace key dies too
    for token in (first.token, second.token, session["access_token"]):
        with pytest.raises(Unauthorized):
            identity.authenticate_bearer(token)
