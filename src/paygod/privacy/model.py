"""The vault's words: data subjects and their keys, sealed records, legal holds, retention.

A data subject (a payee, a customer under KYC, an account holder) is named by a URN; the
ledger refers to them by that URN or by the digest of a record, never by their data. Each
subject has one data key; every record of theirs is sealed under it. Erasure destroys the
key (crypto-shredding): the ciphertexts may stay in the store, in backups and in copies,
and none of them opens again (GDPR art. 17 without editing an append-only ledger).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

# What a record holds: payee details, personal account and payment metadata, KYC details.
RECORD_CLASSES = frozenset({"payee", "account", "payment", "kyc", "other"})


class DataClass(StrEnum):
    """What a retention policy applies to."""

    VAULT = "vault"  # vault records: shredded (the subject's key destroyed)
    ACCESS_LOGS = "access_logs"  # identity_access_log rows: deleted
    EXPORTS = "exports"  # the register of subject-access exports: deleted


@dataclass(frozen=True, slots=True)
class SubjectKey:
    """A subject's data key, wrapped by the KEK; `wrapped` is None once shredded."""

    tenant_id: str
    subject: str
    wrapped: str | None
    created_at: str
    erased_at: str | None = None
    erased_by: str | None = None

    @property
    def erased(self) -> bool:
        return self.wrapped is None


@dataclass(frozen=True, slots=True)
class VaultRecord:
    """One sealed record: `sealed` is nonce + AES-256-GCM ciphertext under the subject key;
    `digest` is the sha256 of the record's canonical JSON, which is what the ledger seals."""

    record_id: str
    tenant_id: str
    subject: str
    record_class: str
    sealed: bytes
    digest: str
    created_at: str

    @property
    def urn(self) -> str:
        return f"urn:paygod:vault:{self.record_id}"

    def reference(self) -> dict[str, Any]:
        return {
            "record": self.urn,
            "subject": self.subject,
            "class": self.record_class,
            "digest": self.digest,
            "created_at": self.created_at,
        }


@dataclass(frozen=True, slots=True)
class LegalHold:
    tenant_id: str
    subject: str
    reason: str
    placed_by: str
    placed_at: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "subject": self.subject,
            "reason": self.reason,
            "placed_by": self.placed_by,
            "placed_at": self.placed_at,
        }


@dataclass(frozen=True, slots=True)
class RetentionPolicy:
    tenant_id: str
    data_class: DataClass
    max_age_days: int
    set_by: str
    set_at: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "data_class": self.data_class.value,
            "max_age_days": self.max_age_days,
            "set_by": self.set_by,
            "set_at": self.set_at,
        }


@dataclass(frozen=True, slots=True)
class ExportRecord:
    """That a subject-access export was made (the document itself goes to the requester)."""

    export_id: str
    tenant_id: str
    subject: str
    digest: str
    requested_by: str
    created_at: str
