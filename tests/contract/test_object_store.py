"""The ObjectStore contract, over every adapter: memory, local filesystem, and S3 against
moto's server mode (a real HTTP S3 endpoint in this process, spoken to by boto3)."""

from __future__ import annotations

import hashlib
import socket
import stat
from collections.abc import Iterator
from pathlib import Path
from uuid import uuid4

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from paygod.documents.ports import ObjectStore
from paygod.documents.stores.objects_local import CorruptObject, LocalObjectStore, MemoryObjectStore


def _digest(content: bytes) -> str:
    return "sha256:" + hashlib.sha256(content).hexdigest()


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    server_mod = pytest.importorskip("moto.server", reason="moto[server] is not installed")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = server_mod.ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


def _s3(endpoint: str) -> ObjectStore:
    import boto3

    from paygod.documents.stores.objects_s3 import S3ObjectStore

    client = boto3.client(
        "s3", endpoint_url=endpoint, region_name="us-east-1",
        aws_access_key_id="test", aws_secret_access_key="test",
    )  # fmt: skip
    bucket = f"paygod-{uuid4().hex[:12]}"
    client.create_bucket(Bucket=bucket)
    return S3ObjectStore(bucket, prefix="docs/", client=client)


@pytest.fixture(params=["memory", "local", "s3"])
def objects(request: pytest.FixtureRequest, tmp_path: Path) -> ObjectStore:
    if request.param == "memory":
        return MemoryObjectStore()
    if request.param == "s3":
        return _s3(request.getfixturevalue("s3_endpoint"))
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


def test_bytes_that_do_not_match_their_key_are_refused(objects: ObjectStore) -> None:
    with pytest.raises(CorruptObject):
        objects.put("t1", _digest(b"the real bytes"), b"other bytes")
    assert not objects.exists("t1", _digest(b"the real bytes"))
