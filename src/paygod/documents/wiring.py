"""Build the document service (called by bootstrap)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from paygod.documents.ports import DocumentStore
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


def build_documents(
    settings: Settings, db: Database | None, clock: Clock, ledger: LedgerService
) -> DocumentService:
    store: DocumentStore = SqlDocumentStore(db) if db is not None else MemoryDocumentStore()
    return DocumentService(
        ledger,
        store,
        LocalObjectStore(settings.home / "documents"),
        clock,
        max_bytes=DocumentSettings().document_max_bytes,
    )
