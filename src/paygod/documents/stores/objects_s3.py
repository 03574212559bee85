"""The S3-compatible object store (AWS S3, MinIO, Ceph RGW, …) through boto3.

Keys mirror the local store: `<prefix><sha256(tenant)[:16]>/<hex>`. A put first asks
whether the key exists (content addressing makes a second upload of the same bytes a
no-op); bytes that do not hash to their key are refused before sending, and
`ChecksumSHA256` lets the server check the transfer too (S3 "Checking object integrity";
moto does not); a get re-hashes what came back. boto3 is an optional
dependency (`pip install paygod[s3]`), imported when this adapter is built.
"""

from __future__ import annotations

import base64
import hashlib
from typing import Any

from paygod.documents.stores.objects_local import DIGEST, CorruptObject, check_key


class S3ObjectStore:
    def __init__(
        self,
        bucket: str,
        *,
        prefix: str = "",
        endpoint_url: str | None = None,
        region: str | None = None,
        client: Any = None,
    ) -> None:
        if client is None:
            import boto3  # type: ignore[import-untyped]

            client = boto3.client("s3", endpoint_url=endpoint_url, region_name=region)
        self.client = client
        self.bucket = bucket
        self.prefix = prefix

    def _key(self, tenant_id: str, digest: str) -> str:
        if not DIGEST.match(digest):
            raise ValueError(f"not a sha256 digest: {digest!r}")
        tenant = hashlib.sha256(tenant_id.encode()).hexdigest()[:16]
        return f"{self.prefix}{tenant}/{digest.removeprefix('sha256:')}"

    def _missing(self, exc: Exception) -> bool:
        code = str(getattr(exc, "response", {}).get("Error", {}).get("Code", ""))
        return code in {"404", "NoSuchKey", "NotFound"}

    def put(self, tenant_id: str, digest: str, content: bytes) -> None:
        check_key(digest, content)
        if self.exists(tenant_id, digest):
            return
        checksum = base64.b64encode(bytes.fromhex(digest.removeprefix("sha256:"))).decode()
        self.client.put_object(
            Bucket=self.bucket,
            Key=self._key(tenant_id, digest),
            Body=content,
            ChecksumSHA256=checksum,
        )

    def get(self, tenant_id: str, digest: str) -> bytes | None:
        try:
            answer = self.client.get_object(Bucket=self.bucket, Key=self._key(tenant_id, digest))
        except Exception as exc:
            if self._missing(exc):
                return None
            raise
        content: bytes = answer["Body"].read()
        if "sha256:" + hashlib.sha256(content).hexdigest() != digest:
            raise CorruptObject(f"s3://{self.bucket}/{self._key(tenant_id, digest)} changed")
        return content

    def delete(self, tenant_id: str, digest: str) -> bool:
        if not self.exists(tenant_id, digest):
            return False
        self.client.delete_object(Bucket=self.bucket, Key=self._key(tenant_id, digest))
        return True

    def exists(self, tenant_id: str, digest: str) -> bool:
        try:
            self.client.head_object(Bucket=self.bucket, Key=self._key(tenant_id, digest))
        except Exception as exc:
            if self._missing(exc):
                return False
            raise
        return True
