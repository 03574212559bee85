"""Document metadata stores: memory, and the `documents` table (SQLite or PostgreSQL)."""

from __future__ import annotations

import threading
from typing import Any

import orjson

from paygod.documents.model import Document
from paygod.kernel.database import SqlStore


class MemoryDocumentStore:
    def __init__(self) -> None:
        self._docs: dict[str, Document] = {}
        self._lock = threading.Lock()

    def save(self, conn: Any, document: Document) -> None:
        with self._lock:
            self._docs[document.document_id] = document

    def get(self, tenant_id: str, document_id: str) -> Document | None:
        found = self._docs.get(document_id)
        return found if found is not None and found.tenant_id == tenant_id else None

    def find(self, tenant_id: str, owner_subject: str | None = None) -> list[Document]:
        with self._lock:
            found = [
                d
                for d in self._docs.values()
                if d.tenant_id == tenant_id and owner_subject in (None, d.owner_subject)
            ]
        return sorted(found, key=lambda d: (d.created_at, d.document_id))

    def expired(self, now: str, limit: int = 500) -> list[Document]:
        with self._lock:
            found = [
                d for d in self._docs.values() if d.deleted_at is None and d.retain_until <= now
            ]
        return sorted(found, key=lambda d: d.retain_until)[:limit]

    def live_with_digest(self, tenant_id: str, digest: str) -> int:
        return sum(
            1
            for d in self._docs.values()
            if (d.tenant_id, d.digest) == (tenant_id, digest) and d.deleted_at is None
        )


class SqlDocumentStore(SqlStore):
    def save(self, conn: Any, document: Document) -> None:
        p = self.p
        conn.execute(
            "INSERT INTO documents (document_id, tenant_id, digest, owner_subject, retain_until, "
            f"deleted_at, created_at, doc) VALUES ({p}, {p}, {p}, {p}, {p}, {p}, {p}, {p}) "
            "ON CONFLICT (document_id) DO UPDATE SET deleted_at = excluded.deleted_at, "
            "doc = excluded.doc",
            (
                document.document_id,
                document.tenant_id,
                document.digest,
                document.owner_subject,
                document.retain_until,
                document.deleted_at,
                document.created_at,
                orjson.dumps(document.as_dict()).decode(),
            ),
        )

    def get(self, tenant_id: str, document_id: str) -> Document | None:
        rows = self._read(
            f"SELECT doc FROM documents WHERE document_id = {self.p} AND tenant_id = {self.p}",
            (document_id, tenant_id),
        )
        return Document.from_dict(orjson.loads(rows[0][0])) if rows else None

    def find(self, tenant_id: str, owner_subject: str | None = None) -> list[Document]:
        p = self.p
        where, params = f"tenant_id = {p}", [tenant_id]
        if owner_subject is not None:
            where += f" AND owner_subject = {p}"
            params.append(owner_subject)
        rows = self._read(
            f"SELECT doc FROM documents WHERE {where} ORDER BY created_at, document_id LIMIT 1000",
            tuple(params),
        )
        return [Document.from_dict(orjson.loads(r[0])) for r in rows]

    def expired(self, now: str, limit: int = 500) -> list[Document]:
        rows = self._read(
            f"SELECT doc FROM documents WHERE deleted_at IS NULL AND retain_until <= {self.p} "
            f"ORDER BY retain_until LIMIT {int(limit)}",
            (now,),
        )
        return [Document.from_dict(orjson.loads(r[0])) for r in rows]

    def live_with_digest(self, tenant_id: str, digest: str) -> int:
        rows = self._read(
            f"SELECT COUNT(*) FROM documents WHERE tenant_id = {self.p} AND digest = {self.p} "
            "AND deleted_at IS NULL",
            (tenant_id, digest),
        )
        return int(rows[0][0])
