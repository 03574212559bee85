"""Signed bundles: only what a trusted key signed, file for file, is ever enforced."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)
from typer.testing import CliRunner

from paygod.cli.main import app
from paygod.decisions.bundles import (
    BundleRefused,
    Keyring,
    sign_bundle,
    verify_bundle,
    verify_platform_bundle,
)
from paygod.decisions.packs import DEFAULT_PACKS_DIR, PackRepository
from paygod.kernel.errors import InvalidInput

# The packs shipped with Paygod (payments, privacy, risk review, credit underwriting).
BUNDLED = 4


def keypair(directory: Path, name: str) -> tuple[Path, Path]:
    key = Ed25519PrivateKey.generate()
    private = directory / f"{name}.key"
    public = directory / f"{name}.pem"
    private.write_bytes(key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()))
    public.write_bytes(
        key.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
    )
    return private, public


@pytest.fixture
def signed(tmp_path: Path) -> tuple[Path, Path, Path]:
    bundle = tmp_path / "bundle"
    shutil.copytree(DEFAULT_PACKS_DIR, bundle, ignore=shutil.ignore_patterns("__pycache__"))
    keys = tmp_path / "keys"
    keys.mkdir()
    private, public = keypair(keys, "release")
    sign_bundle(
        bundle, private, name="payments", version="1.0.0", created_at="2026-12-07T00:00:00Z"
    )
    return bundle, private, public


def test_a_signed_bundle_verifies(signed: tuple[Path, Path, Path]) -> None:
    bundle, _private, public = signed
    manifest = verify_bundle(bundle, Keyring.load(public))
    assert {p["name"] for p in manifest["packs"]} == {
        "agent-payment-limits",
        "credit-underwriting",
        "cross-border-data-transfer",
        "high-risk-review",
    }


@pytest.mark.parametrize(
    ("tamper", "reason"),
    [
        (lambda b: (b / "high-risk-review" / "pack.yaml").write_text("x"), "changed since"),
        (lambda b: (b / "extra.yaml").write_text("x"), "not in the signed manifest"),
        (lambda b: (b / "high-risk-review" / "pack.yaml").unlink(), "missing"),
        (lambda b: (b / "bundle.sig.json").unlink(), "not a signed bundle"),
        (
            lambda b: (b / "bundle.json").write_text(
                (b / "bundle.json").read_text().replace('"1.0.0"', '"1.0.1"', 1)
            ),
            "does not verify",
        ),
        (lambda b: (b / "link.yaml").symlink_to(b / "bundle.json"), "symbolic links"),
    ],
)
def test_every_tamper_is_refused(signed: tuple[Path, Path, Path], tamper, reason: str) -> None:  # type: ignore[no-untyped-def]
    bundle, _private, public = signed
    tamper(bundle)
    with pytest.raises(BundleRefused, match=reason):
        verify_bundle(bundle, Keyring.load(public))


def test_a_key_outside_the_keyring_is_refused(
    signed: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    bundle, _private, _public = signed
    _other_private, other_public = keypair(tmp_path, "other")
    with pytest.raises(BundleRefused, match="not a trusted key"):
        verify_bundle(bundle, Keyring.load(other_public))


def test_the_repository_keeps_the_last_good_bundle(signed: tuple[Path, Path, Path]) -> None:
    bundle, private, public = signed
    repo = PackRepository(bundle, poll_seconds=0, keyring=Keyring.load(public))
    assert len(repo.packs()) == BUNDLED and "signed bundle payments 1.0.0" in repo.trust()
    pack_file = bundle / "high-risk-review" / "pack.yaml"
    pack_file.write_text(pack_file.read_text().replace("high-risk-review", "renamed-in-place"))
    repo.refresh(force=True)
    assert {p.name for p in repo.packs()} >= {"high-risk-review"}  # the signed one still serves
    with pytest.raises(RuntimeError, match="stays active; the new one was refused"):
        repo.trust()
    # Re-signed, it is taken.
    sign_bundle(
        bundle, private, name="payments", version="1.1.0", created_at="2026-12-08T00:00:00Z"
    )
    repo.refresh(force=True)
    assert "renamed-in-place" in {p.name for p in repo.packs()}
    assert repo.trust() == "signed bundle payments 1.1.0"


def test_unsigned_packs_with_a_keyring_are_not_enforced(tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    shutil.copytree(DEFAULT_PACKS_DIR, plain, ignore=shutil.ignore_patterns("__pycache__"))
    _private, public = keypair(tmp_path, "k")
    repo = PackRepository(plain, poll_seconds=0, keyring=Keyring.load(public))
    assert repo.packs() == []
    with pytest.raises(RuntimeError, match="no signed bundle is active"):
        repo.trust()


def test_without_a_keyring_unsigned_packs_are_dev_mode(tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    shutil.copytree(DEFAULT_PACKS_DIR, plain, ignore=shutil.ignore_patterns("__pycache__"))
    repo = PackRepository(plain, poll_seconds=0)
    assert len(repo.packs()) == BUNDLED
    with pytest.raises(RuntimeError, match="dev mode"):
        repo.trust()
    assert "bundled" in PackRepository(DEFAULT_PACKS_DIR).trust()


def test_cli_keygen_bundle_verify(tmp_path: Path) -> None:
    bundle = tmp_path / "b"
    shutil.copytree(DEFAULT_PACKS_DIR, bundle, ignore=shutil.ignore_patterns("__pycache__"))
    runner = CliRunner()
    made = runner.invoke(app, ["packs", "keygen", "--out", str(tmp_path / "k.key")])
    assert made.exit_code == 0 and "BEGIN PUBLIC KEY" in made.output
    assert (tmp_path / "k.key").stat().st_mode & 0o777 == 0o600
    (tmp_path / "k.pem").write_text(made.output)
    again = runner.invoke(app, ["packs", "keygen", "--out", str(tmp_path / "k.key")])
    assert isinstance(again.exception, InvalidInput) and again.exception.exit_code == 2
    assert "refusing to overwrite" in again.exception.detail
    signed = runner.invoke(app, ["packs", "bundle", str(bundle), "--sign", str(tmp_path / "k.key")])
    assert signed.exit_code == 0, signed.output
    ok = runner.invoke(
        app, ["packs", "verify", str(bundle), "--trust", str(tmp_path / "k.pem"), "--json"]
    )
    assert ok.exit_code == 0 and json.loads(ok.output)["status"] == "ok"
    (bundle / "agent-payment-limits" / "pack.yaml").write_text("tampered")
    bad = runner.invoke(
        app, ["packs", "verify", str(bundle), "--trust", str(tmp_path / "k.pem"), "--json"]
    )
    assert bad.exit_code == 1 and "changed since it was signed" in json.loads(bad.output)["reason"]


def test_a_tenant_key_signs_only_its_own_tenant_bundles(tmp_path: Path) -> None:
    """keys/*.pem are the platform's; keys/<tenant>/*.pem that tenant's only."""
    keys = tmp_path / "keys"
    (keys / "acme").mkdir(parents=True)
    (keys / "globex").mkdir()
    platform, _ = keypair(keys, "platform")
    acme, _ = keypair(keys / "acme", "acme")
    keyring = Keyring.load(keys)
    assert len(keyring.keys) == 1 and set(keyring.tenants) == {"acme", "globex"}

    def bundle(name: str, key: Path, tenant: str | None) -> Path:
        target = tmp_path / name
        shutil.copytree(DEFAULT_PACKS_DIR, target, ignore=shutil.ignore_patterns("__pycache__"))
        sign_bundle(target, key, name=name, version="1.0.0", created_at="2026", tenant=tenant)
        return target

    assert verify_bundle(bundle("acme-own", acme, "acme"), keyring)["tenant"] == "acme"
    assert verify_bundle(bundle("platform-for-acme", platform, "acme"), keyring)
    with pytest.raises(BundleRefused, match="not a trusted key for tenant globex"):
        verify_bundle(bundle("acme-as-globex", acme, "globex"), keyring)
    with pytest.raises(BundleRefused, match="only a platform key signs"):
        verify_bundle(bundle("acme-as-platform", acme, None), keyring)
    # A tenant's bundle, however well signed, is never the packs every tenant runs under.
    with pytest.raises(BundleRefused, match="cannot be the packs every tenant runs under"):
        verify_platform_bundle(tmp_path / "platform-for-acme", keyring)
    assert verify_platform_bundle(bundle("platform", platform, None), keyring)
