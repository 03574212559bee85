"""The ObjectStore contract, over every adapter (memory, local filesystem).

An S3-compatible adapter is not part of this branch: no S3 client (boto3) is in the lock
file yet, so there is nothing to run this suite against (see docs/documents.md)."""

from __future__ import annotations

import hashlib
import stat
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from paygod.documents.ports import ObjectStore
from paygod.documents.stores.objects_local import CorruptObject, LocalObjectStore, MemoryObjectStore


def _digest(content: bytes) -> str:
    return "sha256:" + hashlib.sha256(content).hexdigest()


@pytest.fixture(params=["memory", "local"])
def objects(request: pytest.FixtureRequest, tmp_path: Path) -> ObjectStore:
    if request.param == "memory":
        return MemoryObjectStore()
    return LocalObjectStore(tmp_path / "objects")


def test_put_get_delete(objects: ObjectStore) -> None:
    content = b"%PDF-1.7 statement"
    key = _digest(content)
    assert objects.get("t1", key) is None and not objects.exists("t1", key)
    objects.put("t1", key, content)
    objects.put("t1", key, content)  # idempotent
    assert objects.get("t1", key) == content and objects.exists("t1", key)
    assert objects.delete("t1", key) is True
    assert objects.delete("t1", key) is False
    assert objects.get("t1", key) is None


def test_tenants_do_not_share_objects(objects: ObjectStore) -> None:
    content = b"same bytes"
    key = _digest(content)
    objects.put("a", key, content)
    assert objects.get("b", key) is None
    objects.put("b", key, content)
    objects.delete("a", key)
    assert objects.get("b", key) == content


@settings(max_examples=25, deadline=None)
@given(blobs=st.lists(st.binary(min_size=1, max_size=2048), min_size=1, max_size=8))
def test_every_blob_comes_back_as_stored(blobs: list[bytes]) -> None:
    for store in (MemoryObjectStore(),):
        for blob in blobs:
            store.put("t", _digest(blob), blob)
        for blob in blobs:
            assert store.get("t", _digest(blob)) == blob


def test_local_files_are_private_and_content_addressed(tmp_path: Path) -> None:
    store = LocalObjectStore(tmp_path / "objects")
    content = b"kyc passport scan"
    key = _digest(content)
    store.put("t1", key, content)
    [path] = [p for p in (tmp_path / "objects").rglob("*") if p.is_file()]
    assert path.name == key.removeprefix("sha256:")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    path.write_bytes(b"tampered")
    with pytest.raises(CorruptObject):
        store.get("t1", key)
    with pytest.raises(ValueError):
        store.get("t1", "sha256:../../etc/passwd")
