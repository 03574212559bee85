"""Signed policy bundles: a directory of packs, a manifest of every file's digest, and an
Ed25519 signature over the manifest's RFC 8785 form.

    bundle/
      bundle.json          manifest: name, version, created_at, packs, files {path: sha256:...}
      bundle.sig.json      {"algorithm": "Ed25519", "key_id", "signature": base64}
      <pack>/pack.yaml ... the packs, unchanged paygod/v1

The kernel loads a bundle only when the signature verifies against a trusted key and
every file on disk is the file the manifest names (no file missing, none added). The
key id is the same `sha256:<hex>` of the raw public key the ledger's tree heads use.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import shutil
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

import orjson
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    PublicFormat,
    load_pem_private_key,
    load_pem_public_key,
)

from paygod.canonical import canonicalize
from paygod.kernel.errors import InvalidInput
from paygod.kernel.identifiers import identifier_problem
from paygod.ledger.verifier import key_id_of

MANIFEST = "bundle.json"
SIGNATURE = "bundle.sig.json"
FORMAT = "paygod.bundle/v1"
PACK_FILE = "pack.yaml"
# What a bundle may hold besides its packs' files: nothing hidden, nothing generated.
_SKIPPED = {MANIFEST, SIGNATURE}


class BundleRefused(InvalidInput):
    """A bundle whose signature, key or files do not check out; nothing of it is loaded."""


@dataclass(frozen=True)
class Keyring:
    """Trusted public keys by key id: the platform's, and each tenant's.

    A directory's own `*.pem` files are platform keys; `<dir>/<tenant>/*.pem` are that
    tenant's. A tenant's key verifies only a bundle whose manifest names that tenant
    (`"tenant": "<id>"`), so no tenant can sign the policy every tenant runs under; a
    platform key verifies any bundle."""

    keys: Mapping[str, Ed25519PublicKey]
    tenants: Mapping[str, Mapping[str, Ed25519PublicKey]] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path) -> Keyring:
        """Every `*.pem` public key under `path` (a file or a directory)."""
        files = sorted(path.glob("*.pem")) if path.is_dir() else [path]
        keys = _read_keys(files)
        tenants: dict[str, Mapping[str, Ed25519PublicKey]] = {}
        if path.is_dir():
            for sub in sorted(p for p in path.iterdir() if p.is_dir() and p.name[0] != "."):
                if identifier_problem(sub.name) is None and sub.name != "*":
                    tenants[sub.name] = _read_keys(sorted(sub.glob("*.pem")))
        if not keys and not any(tenants.values()):
            raise InvalidInput(f"no trusted keys (*.pem) in {path}")
        return cls(keys, tenants)

    def key_for(self, key_id: str, tenant: str | None) -> Ed25519PublicKey:
        """The trusted key `key_id` for a bundle of `tenant` (None: the platform's)."""
        key = self.keys.get(key_id)
        if key is not None:
            return key
        if tenant is not None:
            key = self.tenants.get(tenant, {}).get(key_id)
            if key is not None:
                return key
        owners = [t for t, keys in self.tenants.items() if key_id in keys]
        if owners and tenant is None:
            raise BundleRefused(
                f"{SIGNATURE}: signed by tenant {owners[0]}'s key; only a platform key signs "
                "a bundle that names no tenant"
            )
        scope = f"tenant {tenant}" if tenant is not None else "the platform"
        raise BundleRefused(f"{SIGNATURE}: signed by {key_id!r}, not a trusted key for {scope}")


def _read_keys(files: Iterable[Path]) -> dict[str, Ed25519PublicKey]:
    keys: dict[str, Ed25519PublicKey] = {}
    for file in files:
        try:
            key = load_pem_public_key(file.read_bytes())
        except (OSError, ValueError) as exc:
            raise InvalidInput(f"cannot read trusted key {file}: {exc}") from None
        if not isinstance(key, Ed25519PublicKey):
            raise InvalidInput(f"trusted key {file} is not an Ed25519 public key")
        keys[key_id_of(key.public_bytes(Encoding.Raw, PublicFormat.Raw))] = key
    return keys


def _files(directory: Path) -> dict[str, str]:
    """Every regular file under `directory` but the bundle's own, by POSIX relative path."""
    found: dict[str, str] = {}
    for file in sorted(directory.rglob("*")):
        relative = file.relative_to(directory).as_posix()
        if relative in _SKIPPED or any(part.startswith(".") for part in Path(relative).parts):
            continue
        if file.is_symlink():
            raise BundleRefused(f"{relative}: a bundle may not hold symbolic links")
        if file.is_file():
            found[relative] = "sha256:" + hashlib.sha256(file.read_bytes()).hexdigest()
    return found


def build_manifest(
    directory: Path, *, name: str, version: str, created_at: str, tenant: str | None = None
) -> dict[str, Any]:
    from paygod.decisions.packs import load_pack

    packs = []
    for pack_file in sorted(directory.rglob(PACK_FILE)):
        pack = load_pack(pack_file.parent)  # refuses an invalid pack before it is signed
        rel = pack_file.parent.relative_to(directory).as_posix()
        packs.append(
            {"name": pack.name, "version": pack.version, "path": rel, "digest": pack.digest}
        )
    if not packs:
        raise InvalidInput(f"{directory}: no {PACK_FILE} to bundle")
    manifest: dict[str, Any] = {
        "format": FORMAT,
        "name": name,
        "version": version,
        "created_at": created_at,
        "packs": packs,
        "files": _files(directory),
    }
    if tenant is not None:
        manifest["tenant"] = tenant
    return manifest


def sign_bundle(
    directory: Path,
    key_file: Path,
    *,
    name: str,
    version: str,
    created_at: str,
    tenant: str | None = None,
) -> dict[str, Any]:
    """Write `bundle.json` and `bundle.sig.json` into `directory`; returns the manifest."""
    try:
        key = load_pem_private_key(key_file.read_bytes(), password=None)
    except (OSError, ValueError, TypeError) as exc:
        raise InvalidInput(f"cannot load the signing key {key_file}: {exc}") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise InvalidInput(f"{key_file} is not an Ed25519 private key")
    manifest = build_manifest(
        directory, name=name, version=version, created_at=created_at, tenant=tenant
    )
    raw = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    signature = {
        "algorithm": "Ed25519",
        "key_id": key_id_of(raw),
        "signature": base64.b64encode(key.sign(canonicalize(manifest))).decode("ascii"),
    }
    (directory / MANIFEST).write_bytes(orjson.dumps(manifest, option=orjson.OPT_INDENT_2))
    (directory / SIGNATURE).write_bytes(orjson.dumps(signature, option=orjson.OPT_INDENT_2))
    return manifest


def _read_json(path: Path) -> dict[str, Any]:
    try:
        value = orjson.loads(path.read_bytes())
    except FileNotFoundError:
        raise BundleRefused(
            f"{path.name} is missing: the directory is not a signed bundle"
        ) from None
    except (OSError, orjson.JSONDecodeError) as exc:
        raise BundleRefused(f"{path.name} cannot be read: {exc}") from None
    if not isinstance(value, dict):
        raise BundleRefused(f"{path.name} is not a JSON object")
    return value


def verify_bundle(directory: Path, keyring: Keyring) -> dict[str, Any]:
    """The manifest of a bundle that checks out, or `BundleRefused` naming the first fault."""
    manifest = _read_json(directory / MANIFEST)
    signed = _read_json(directory / SIGNATURE)
    if manifest.get("format") != FORMAT:
        raise BundleRefused(f"{MANIFEST}: /format must be {FORMAT!r}")
    if signed.get("algorithm") != "Ed25519":
        raise BundleRefused(f"{SIGNATURE}: /algorithm must be 'Ed25519'")
    tenant = manifest.get("tenant")
    if tenant is not None and not isinstance(tenant, str):
        raise BundleRefused(f"{MANIFEST}: /tenant must be a tenant id")
    key = keyring.key_for(str(signed.get("key_id")), tenant)
    try:
        signature = base64.b64decode(str(signed.get("signature")), validate=True)
        key.verify(signature, canonicalize(manifest))
    except (binascii.Error, ValueError, InvalidSignature):
        raise BundleRefused(f"{SIGNATURE}: the signature does not verify over {MANIFEST}") from None
    listed = manifest.get("files")
    if not isinstance(listed, dict):
        raise BundleRefused(f"{MANIFEST}: /files must be an object")
    present = _files(directory)
    for path in sorted(set(listed) | set(present)):
        if path not in present:
            raise BundleRefused(f"{path}: named by the manifest but missing")
        if path not in listed:
            raise BundleRefused(f"{path}: not in the signed manifest")
        if listed[path] != present[path]:
            raise BundleRefused(f"{path}: changed since it was signed")
    return manifest


def verify_platform_bundle(directory: Path, keyring: Keyring) -> dict[str, Any]:
    """A bundle the kernel may enforce for every tenant: verified, and naming no tenant
    (a tenant's signed bundle never becomes the policy of all)."""
    manifest = verify_bundle(directory, keyring)
    if manifest.get("tenant") is not None:
        raise BundleRefused(
            f"{MANIFEST}: a bundle of tenant {manifest['tenant']} cannot be the packs every "
            "tenant runs under"
        )
    return manifest


def bundled_pack_dirs(directory: Path, manifest: Mapping[str, Any]) -> Iterable[Path]:
    for entry in manifest.get("packs", []):
        yield directory / str(entry["path"])


def bundle_path_problem(path: str) -> str | None:
    """Why `path` cannot be a file of a bundle, or None."""
    pure = PurePosixPath(path)
    if not path or "\\" in path or "\x00" in path or pure.is_absolute():
        return "must be a relative POSIX path"
    if any(part in {"", ".", ".."} or part.startswith(".") for part in path.split("/")):
        return "may not name '.', '..' or a hidden file"
    if path in {MANIFEST, SIGNATURE}:
        return "is the bundle's own file; send it as manifest/signature"
    return None


def materialize_into(
    target: Path,
    manifest: Mapping[str, Any],
    signature: Mapping[str, Any],
    files: Mapping[str, bytes],
) -> Path:
    """Write a bundle's files, manifest and signature into `target` (replaced whole)."""
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True, mode=0o700)
    for path, content in files.items():
        if bundle_path_problem(path) is not None:  # a sealed bundle is checked again when read back
            raise InvalidInput(f"{path}: not a bundle file path")
        file = target / path
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_bytes(content)
    (target / MANIFEST).write_bytes(orjson.dumps(dict(manifest)))
    (target / SIGNATURE).write_bytes(orjson.dumps(dict(signature)))
    return target
