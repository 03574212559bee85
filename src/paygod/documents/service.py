"""The document service: store by digest, seal the metadata, audit every download, expire.

Upload: the bytes go to the object store under their sha256 first (idempotent: same bytes,
same key), then the metadata is sealed (`document.stored`) and saved in one ledger
transaction; a crash between the two leaves only an unreferenced object, never metadata
without bytes. Every download seals a `document.accessed` entry (who, when, which digest)
before the bytes are returned, like identity's `audit.access`. Past its retention a
document's bytes are deleted; the ledger keeps its digest and a `document.deleted` entry.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Callable
from typing import Any

from paygod.documents.errors import DocumentCode
from paygod.documents.model import (
    DEFAULT_RETENTION,
    MEDIA_TYPES,
    RETENTION,
    Document,
    DocumentKind,
    retain_until,
)
from paygod.documents.ports import DocumentStore, ObjectStore
from paygod.kernel.clock import Clock, isoformat
from paygod.kernel.errors import FieldError, Gone, InvalidInput, NotFound
from paygod.kernel.identifiers import subject_problem
from paygod.kernel.record_ids import new_id
from paygod.ledger import EntryDraft, LedgerService

DEFAULT_MAX_BYTES = 10 * 1024 * 1024


def document_subject(document_id: str) -> str:
    return f"document:{document_id}"


class DocumentService:
    def __init__(
        self,
        ledger: LedgerService,
        store: DocumentStore,
        objects: ObjectStore,
        clock: Clock,
        *,
        max_bytes: int = DEFAULT_MAX_BYTES,
    ) -> None:
        self.ledger = ledger
        self.store = store
        self.objects = objects
        self.clock = clock
        self.max_bytes = max_bytes
        # Whether (tenant, subject) is under a legal hold (privacy lends it in bootstrap):
        # a held owner's documents outlive their retention until the hold is released.
        self.on_hold: Callable[[str, str], bool] = lambda tenant_id, subject: False

    def _check(
        self, kind: Any, media_type: Any, content: bytes, owner: Any, retention: Any
    ) -> list[FieldError]:
        errors: list[FieldError] = []
        if kind not in {k.value for k in DocumentKind}:
            errors.append(FieldError("/kind", "must be statement, contract, kyc or other"))
        if retention is not None and retention not in RETENTION:
            errors.append(FieldError("/retention_class", f"must be one of {', '.join(RETENTION)}"))
        if owner is not None and (not isinstance(owner, str) or subject_problem(owner)):
            errors.append(FieldError("/owner_subject", "expected a subject such as customer:42"))
        if not content:
            errors.append(FieldError("/content", "the document is empty"))
        elif len(content) > self.max_bytes:
            errors.append(FieldError("/content", f"larger than {self.max_bytes} bytes"))
        if media_type not in MEDIA_TYPES:
            errors.append(FieldError("/media_type", f"must be one of {', '.join(MEDIA_TYPES)}"))
        elif content:
            magic = MEDIA_TYPES[media_type]
            if magic is not None and not content.startswith(magic):
                errors.append(FieldError("/content", f"the content is not {media_type}"))
            elif magic is None and not _is_text(content):
                errors.append(FieldError("/content", f"the content is not UTF-8 {media_type}"))
        return errors

    def put(
        self,
        tenant_id: str,
        *,
        kind: Any,
        media_type: Any,
        content: bytes,
        owner_subject: Any = None,
        retention_class: Any = None,
        actor: str,
    ) -> Document:
        errors = self._check(kind, media_type, content, owner_subject, retention_class)
        if errors:
            raise InvalidInput("invalid document", errors=errors)
        digest = "sha256:" + hashlib.sha256(content).hexdigest()
        now = self.clock.now()
        retention = str(retention_class or DEFAULT_RETENTION[DocumentKind(kind)])
        document = Document(
            document_id=new_id(),
            tenant_id=tenant_id,
            kind=DocumentKind(kind),
            digest=digest,
            size=len(content),
            media_type=str(media_type),
            owner_subject=owner_subject,
            retention_class=retention,
            created_at=isoformat(now),
            created_by=actor,
            retain_until=isoformat(retain_until(now, retention)),
        )
        self.objects.put(tenant_id, digest, content)
        self._seal(document, "document.stored", document.as_dict())
        return document

    def _seal(self, document: Document, kind: str, payload: dict[str, Any]) -> None:
        draft = EntryDraft(
            kind, document_subject(document.document_id), payload, tenant_id=document.tenant_id
        )

        def work(conn: Any) -> tuple[None, list[EntryDraft]]:
            self.store.save(conn, document)
            return None, [draft]

        self.ledger.transact(work)

    def get(self, tenant_id: str, document_id: str) -> Document:
        found = self.store.get(tenant_id, document_id)
        if found is None:
            raise NotFound(f"no document {document_id}", code=DocumentCode.DOCUMENT_NOT_FOUND)
        return found

    def find(self, tenant_id: str, owner_subject: str | None = None) -> list[Document]:
        return self.store.find(tenant_id, owner_subject)

    def content(self, tenant_id: str, document_id: str, *, actor: str) -> tuple[Document, bytes]:
        """The bytes, after the download is sealed (no unaudited read)."""
        document = self.get(tenant_id, document_id)
        if document.deleted_at is not None:
            raise Gone(
                f"document {document_id} was deleted at {document.deleted_at} (retention)",
                code=DocumentCode.DOCUMENT_DELETED,
            )
        content = self.objects.get(tenant_id, document.digest)
        if content is None:
            raise Gone(
                f"the content of {document_id} is missing", code=DocumentCode.DOCUMENT_MISSING
            )
        self.ledger.append(
            EntryDraft(
                "document.accessed",
                document_subject(document_id),
                {
                    "document_id": document_id,
                    "digest": document.digest,
                    "actor": actor,
                    "at": isoformat(self.clock.now()),
                },
                tenant_id=tenant_id,
            )
        )
        return document, content

    def expire(self) -> int:
        """Delete the bytes of every document past its retention; seal `document.deleted`."""
        now = isoformat(self.clock.now())
        done = 0
        for document in self.store.expired(now):
            if document.owner_subject and self.on_hold(document.tenant_id, document.owner_subject):
                continue
            gone = dataclasses.replace(document, deleted_at=now)
            self._seal(
                gone,
                "document.deleted",
                {"document_id": document.document_id, "digest": document.digest, "at": now,
                 "reason": f"retention {document.retention_class} ended"},
            )  # fmt: skip
            # The same bytes may back another live document of the tenant: keep them then.
            if self.store.live_with_digest(document.tenant_id, document.digest) == 0:
                self.objects.delete(document.tenant_id, document.digest)
            done += 1
        return done


def _is_text(content: bytes) -> bool:
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return "\x00" not in text
