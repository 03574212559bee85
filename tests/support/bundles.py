"""Signed policy bundles for tests: a key pair, a signed copy of a packs directory, a
challenger version of agent-payment-limits, and the JSON body that uploads a bundle."""

from __future__ import annotations

import base64
import shutil
from pathlib import Path
from typing import Any

import orjson
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)

from paygod.decisions.bundles import MANIFEST, SIGNATURE, sign_bundle
from paygod.decisions.packs import DEFAULT_PACKS_DIR

PACK = "agent-payment-limits"


def keypair(directory: Path, name: str) -> tuple[Path, Path]:
    key = Ed25519PrivateKey.generate()
    private = directory / f"{name}.key"
    public = directory / f"{name}.pem"
    private.write_bytes(key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()))
    public.write_bytes(
        key.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
    )
    return private, public


def signed_copy(source: Path, target: Path, key: Path, version: str) -> Path:
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__", "bundle*.json"))
    sign_bundle(target, key, name="payments", version=version, created_at="2026-12-07T00:00:00Z")
    return target


def upload_body(bundle: Path) -> dict[str, Any]:
    files = {
        f.relative_to(bundle).as_posix(): base64.b64encode(f.read_bytes()).decode()
        for f in sorted(bundle.rglob("*"))
        if f.is_file() and f.name not in {MANIFEST, SIGNATURE}
    }
    return {
        "manifest": orjson.loads((bundle / MANIFEST).read_bytes()),
        "signature": orjson.loads((bundle / SIGNATURE).read_bytes()),
        "files": files,
    }


def challenger_bundle(tmp: Path, key: Path) -> Path:
    """The active packs with agent-payment-limits at 1.2.0 (a lower card limit)."""
    draft = tmp / "draft"
    shutil.copytree(DEFAULT_PACKS_DIR, draft, ignore=shutil.ignore_patterns("__pycache__"))
    pack = draft / PACK / "pack.yaml"
    text = pack.read_text().replace('version: "1.1.0"', 'version: "1.2.0"')
    pack.write_text(text.replace("amount_minor > 500000)", "amount_minor > 400000)"))
    return signed_copy(draft, tmp / "upload", key, "1.1.0")
