"""The local object store: files under `$PAYGOD_HOME/documents/<tenant key>/ab/cd/<hex>`.

Paths derive from the digest only (and a digest of the tenant id, so a tenant name never
becomes a path), files are 0600 in 0700 folders, written to a temporary file and renamed
so a crash never leaves half a document under a digest. A read re-hashes the bytes: a file
changed on disk is reported, never served.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from paygod.kernel.files import replace_durably

DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")


class CorruptObject(Exception):
    """The stored bytes no longer hash to their key."""


def check_key(digest: str, content: bytes) -> None:
    """Content addressing holds at the door: bytes are stored only under their own digest."""
    if "sha256:" + hashlib.sha256(content).hexdigest() != digest:
        raise CorruptObject(f"the bytes do not hash to {digest}")


class LocalObjectStore:
    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, tenant_id: str, digest: str) -> Path:
        if not DIGEST.match(digest):
            raise ValueError(f"not a sha256 digest: {digest!r}")
        tenant = hashlib.sha256(tenant_id.encode()).hexdigest()[:16]
        hexed = digest.removeprefix("sha256:")
        return self.root / tenant / hexed[:2] / hexed[2:4] / hexed

    def put(self, tenant_id: str, digest: str, content: bytes) -> None:
        path = self._path(tenant_id, digest)
        check_key(digest, content)
        if path.exists():
            return
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        replace_durably(path, content)

    def get(self, tenant_id: str, digest: str) -> bytes | None:
        path = self._path(tenant_id, digest)
        try:
            content = path.read_bytes()
        except FileNotFoundError:
            return None
        if "sha256:" + hashlib.sha256(content).hexdigest() != digest:
            raise CorruptObject(f"{path} no longer hashes to {digest}")
        return content

    def delete(self, tenant_id: str, digest: str) -> bool:
        path = self._path(tenant_id, digest)
        try:
            path.unlink()
        except FileNotFoundError:
            return False
        return True

    def exists(self, tenant_id: str, digest: str) -> bool:
        return self._path(tenant_id, digest).exists()


class MemoryObjectStore:
    def __init__(self) -> None:
        self.objects: dict[tuple[str, str], bytes] = {}

    def put(self, tenant_id: str, digest: str, content: bytes) -> None:
        check_key(digest, content)
        self.objects.setdefault((tenant_id, digest), content)

    def get(self, tenant_id: str, digest: str) -> bytes | None:
        return self.objects.get((tenant_id, digest))

    def delete(self, tenant_id: str, digest: str) -> bool:
        return self.objects.pop((tenant_id, digest), None) is not None

    def exists(self, tenant_id: str, digest: str) -> bool:
        return (tenant_id, digest) in self.objects
