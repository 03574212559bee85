"""Build the document service (called by bootstrap)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from paygod.documents.ports import DocumentStore, ObjectStore
from paygod.documents.service import DEFAULT_MAX_BYTES, DocumentService
from paygod.documents.stores.metadata import MemoryDocumentStore, SqlDocumentStore
from paygod.documents.stores.objects_local import LocalObjectStore
from paygod.kernel.clock import Clock
from paygod.kernel.database import Database
from paygod.kernel.settings import Settings
from paygod.ledger import LedgerService


class DocumentSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PAYGOD_", extra="ignore", frozen=True)

    document_max_bytes: int = Field(default=DEFAULT_MAX_BYTES, ge=1, le=1024 * 1024 * 1024)
    documents_store: str | None = Field(
        default=None,
        description="s3://BUCKET[/PREFIX] for an S3-compatible store; default: files under "
        "PAYGOD_HOME/documents",
    )
    s3_endpoint_url: str | None = Field(default=None, description="MinIO, Ceph, … endpoint")
    s3_region: str | None = None


def objects_from(settings: Settings, options: DocumentSettings) -> ObjectStore:
    target = options.documents_store
    if target and target.startswith("s3://"):
        from paygod.documents.stores.objects_s3 import S3ObjectStore

        bucket, _, prefix = target.removeprefix("s3://").partition("/")
        return S3ObjectStore(
            bucket,
            prefix=f"{prefix.rstrip('/')}/" if prefix else "",
            endpoint_url=options.s3_endpoint_url,
            region=options.s3_region,
        )
    return LocalObjectStore(settings.home / "documents")


def build_documents(
    settings: Settings, db: Database | None, clock: Clock, ledger: LedgerService
) -> DocumentService:
    options = DocumentSettings()
    store: DocumentStore = SqlDocumentStore(db) if db is not None else MemoryDocumentStore()
    return DocumentService(
        ledger, store, objects_from(settings, options), clock, max_bytes=options.document_max_bytes
    )
