"""Document values: kinds, retention classes, the metadata sealed in the ledger."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

MiB = 1024 * 1024


class DocumentKind(StrEnum):
    STATEMENT = "statement"
    CONTRACT = "contract"
    KYC = "kyc"
    OTHER = "other"


# How long each class is kept after upload. Ten years covers commercial books (e.g. HGB
# §257, 10 years; SOX §802, 7); five years covers AML records after the relationship
# (EU AMLD 2015/849 Art. 40); `transient` is for working copies.
RETENTION: dict[str, timedelta] = {
    "books_10y": timedelta(days=3653),
    "aml_5y": timedelta(days=1827),
    "transient_30d": timedelta(days=30),
}
DEFAULT_RETENTION = {
    DocumentKind.STATEMENT: "books_10y",
    DocumentKind.CONTRACT: "books_10y",
    DocumentKind.KYC: "aml_5y",
    DocumentKind.OTHER: "transient_30d",
}
# What may be uploaded, with the leading bytes the content must start with (None: text).
MEDIA_TYPES: dict[str, bytes | None] = {
    "application/pdf": b"%PDF-",
    "image/png": b"\x89PNG\r\n\x1a\n",
    "image/jpeg": b"\xff\xd8\xff",
    "application/json": None,
    "text/plain": None,
    "text/csv": None,
}


def retain_until(created: datetime, retention_class: str) -> datetime:
    return created + RETENTION[retention_class]


@dataclass(frozen=True, slots=True)
class Document:
    document_id: str
    tenant_id: str
    kind: DocumentKind
    digest: str  # sha256:<hex> of the content: the object store's key
    size: int
    media_type: str
    owner_subject: str | None
    retention_class: str
    created_at: str
    created_by: str
    retain_until: str
    deleted_at: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "document_id": self.document_id,
            "tenant_id": self.tenant_id,
            "kind": self.kind.value,
            "digest": self.digest,
            "size": self.size,
            "media_type": self.media_type,
            "owner_subject": self.owner_subject,
            "retention_class": self.retention_class,
            "created_at": self.created_at,
            "created_by": self.created_by,
            "retain_until": self.retain_until,
            "deleted_at": self.deleted_at,
        }

    @classmethod
    def from_dict(cls, doc: dict[str, Any]) -> Document:
        return cls(**{**doc, "kind": DocumentKind(doc["kind"])})
