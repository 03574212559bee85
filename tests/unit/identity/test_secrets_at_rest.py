"""Reading the database is not enough to forge a session or read a second factor (issue 15,
D5): the signing key and TOTP secrets are sealed under a key-encryption key kept outside
it, the data files are the service user's alone, and loose modes are reported."""

from __future__ import annotations

import base64
import os
import stat
import subprocess
import sys
from pathlib import Path

import pyotp
import pytest

from paygod.bootstrap import build_kernel
from paygod.identity.model import PrincipalKind, Role
from paygod.identity.sealing import SEALED_PREFIX, SealedSecretUnreadable, SecretBox
from paygod.identity.service import IdentityService
from paygod.identity.stores.sql import SqlRunner
from paygod.kernel.clock import ManualClock
from paygod.kernel.database import SqliteDatabase
from paygod.kernel.errors import InvalidSettings
from paygod.kernel.settings import load_settings


def _enrolled(identity: IdentityService) -> tuple[str, str]:
    human = identity.create_principal("acme", "alice", PrincipalKind.HUMAN, {Role.ADMIN})
    token, _ = identity.totp.issue_enrolment(human, issued_by=None)
    secret, _ = identity.totp.enroll(human, token)
    assert identity.totp.confirm(human.principal_id, pyotp.TOTP(secret).at(identity.clock.now()))
    return human.principal_id, secret


def test_signing_key_and_totp_secrets_are_sealed_in_the_database(
    db: SqliteDatabase, clock: ManualClock
) -> None:
    identity = IdentityService(db, clock, box=SecretBox.ephemeral())
    principal_id, secret = _enrolled(identity)
    identity.sessions.issue(identity.principal(principal_id), clock.now())
    raw = Path(db.path).read_bytes() + Path(str(db.path) + "-wal").read_bytes()
    assert b"PRIVATE KEY" not in raw
    assert secret.encode() not in raw
    (pem,) = SqlRunner(db).one("SELECT private_pem FROM identity_signing_keys") or ("",)
    (stored,) = SqlRunner(db).one("SELECT secret FROM identity_totp") or ("",)
    assert pem.startswith(SEALED_PREFIX) and stored.startswith(SEALED_PREFIX)


def test_another_kek_opens_nothing_and_rows_cannot_be_swapped(
    db: SqliteDatabase, clock: ManualClock
) -> None:
    box = SecretBox.ephemeral()
    identity = IdentityService(db, clock, box=box)
    principal_id, _ = _enrolled(identity)
    stranger = IdentityService(db, clock, box=SecretBox.ephemeral())
    with pytest.raises(SealedSecretUnreadable):
        stranger.totp.verify(principal_id, "123456")
    sealed = box.seal("JBSWY3DPEHPK3PXP", "identity_totp:someone-else")
    with pytest.raises(SealedSecretUnreadable):  # bound to its row
        box.open(sealed, f"identity_totp:{principal_id}")


def test_plaintext_rows_of_an_older_store_are_sealed_at_start(
    db: SqliteDatabase, clock: ManualClock
) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    pem = (
        Ed25519PrivateKey.generate()
        .private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        .decode()
    )
    sql = SqlRunner(db)
    sql.run(
        "INSERT INTO identity_signing_keys (key_id, private_pem, created_at) VALUES (?, ?, ?)",
        ("k-old", pem, "2026-01-01T00:00:00Z"),
    )
    old_secret = pyotp.random_base32()
    sql.run(
        "INSERT INTO identity_totp (principal_id, secret, confirmed, last_counter, created_at)"
        " VALUES ('p-old', ?, 1, NULL, '2026-01-01T00:00:00Z')",
        (old_secret,),
    )
    identity = IdentityService(db, clock, box=SecretBox.ephemeral())
    assert identity.seal_secrets_at_rest() == 2
    assert identity.seal_secrets_at_rest() == 0  # idempotent
    assert identity.totp.verify("p-old", pyotp.TOTP(old_secret).at(clock.now()))
    principal = identity.create_principal("acme", "bot", PrincipalKind.AGENT, {Role.AGENT})
    token = identity.sessions.issue(principal, clock.now().replace(year=2027))["access_token"]
    assert identity.sessions.verify(token)["sub"] == principal.principal_id
    stored = [r[0] for r in sql.all("SELECT private_pem FROM identity_signing_keys")]
    assert all(s.startswith(SEALED_PREFIX) for s in stored)


def test_new_homes_keep_data_files_to_their_owner(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PAYGOD_KEK", raising=False)
    old = os.umask(0o022)  # the usual umask: files 0644 unless created otherwise
    try:
        home = tmp_path / "fresh"
        kernel = build_kernel(load_settings(home=home))
        kernel.identity.sessions.issue(
            kernel.identity.create_principal("acme", "bot", PrincipalKind.AGENT, {Role.AGENT}),
            kernel.clock.now(),
        )
        results = {check.name: check.run() for check in kernel.checks}
        kernel.close()
    finally:
        os.umask(old)
    assert stat.S_IMODE(home.stat().st_mode) == 0o700
    for name in ("paygod.db", "paygod.db-wal", "paygod.db-shm", "keys/kek"):
        path = home / name
        if path.exists():
            assert stat.S_IMODE(path.stat().st_mode) == 0o600, name
    assert results["permissions"].status == "pass"


def test_loose_modes_warn_in_readiness_and_a_loose_kek_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PAYGOD_KEK", raising=False)
    home = tmp_path / "home"
    build_kernel(load_settings(home=home)).close()
    (home / "paygod.db").chmod(0o644)
    kernel = build_kernel(load_settings(home=home))
    try:
        check = next(c for c in kernel.checks if c.name == "permissions").run()
    finally:
        kernel.close()
    assert check.status == "warn" and "paygod.db (644)" in check.detail
    (home / "keys" / "kek").chmod(0o640)
    with pytest.raises(InvalidSettings, match="chmod 600"):
        build_kernel(load_settings(home=home))


def test_kek_from_the_environment_is_shared_by_processes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    kek = base64.b64encode(os.urandom(32)).decode()
    monkeypatch.setenv("PAYGOD_KEK", kek)
    first = build_kernel(load_settings(home=tmp_path / "a"))
    principal = first.identity.create_principal("acme", "bot", PrincipalKind.AGENT, {Role.AGENT})
    token = first.identity.sessions.issue(principal, first.clock.now().replace(year=2099))
    first.close()
    assert not (tmp_path / "a" / "keys" / "kek").exists()  # never written when given
    second = build_kernel(load_settings(home=tmp_path / "a"))
    try:
        assert second.identity.sessions.verify(token["access_token"])["sub"]
    finally:
        second.close()
    monkeypatch.setenv("PAYGOD_KEK", "not base64!")
    with pytest.raises(InvalidSettings, match="PAYGOD_KEK"):
        build_kernel(load_settings(home=tmp_path / "a"))


def test_a_local_user_without_the_kek_cannot_forge_a_session(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The reported attack: read the signing key out of the database, sign a platform admin
    token. The database holds only a sealed blob."""
    monkeypatch.delenv("PAYGOD_KEK", raising=False)
    home = tmp_path / "home"
    kernel = build_kernel(load_settings(home=home))
    admin = kernel.identity.create_principal(
        "*", "root", PrincipalKind.SERVICE, {Role.PLATFORM_ADMIN}
    )
    kernel.identity.sessions.issue(admin, kernel.clock.now())
    kernel.close()
    script = (
        "import sqlite3, sys\n"
        "from cryptography.hazmat.primitives import serialization\n"
        "pem = sqlite3.connect(sys.argv[1]).execute("
        "'select private_pem from identity_signing_keys').fetchone()[0]\n"
        "try:\n"
        "    serialization.load_pem_private_key(pem.encode(), None)\n"
        "except ValueError:\n"
        "    print('unreadable')\n"
        "else:\n"
        "    print('FORGEABLE')\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script, str(home / "paygod.db")],
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip() == "unreadable"
