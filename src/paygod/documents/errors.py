"""The documents module's error codes."""

from __future__ import annotations

from enum import StrEnum


class DocumentCode(StrEnum):
    DOCUMENT_NOT_FOUND = "document-not-found"
    DOCUMENT_DELETED = "document-deleted"
    DOCUMENT_MISSING = "document-missing"
