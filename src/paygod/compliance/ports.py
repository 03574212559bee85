"""Ports the compliance module owns. Writes take the ledger's transaction handle (`conn`)
so a snapshot, a KYC status or a threshold commits with the ledger entry that seals it;
the memory adapters ignore it."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from paygod.compliance.model import KycLevel, KycStatus, ListEntry, ScreeningQuery, Snapshot


class SanctionsStore(Protocol):
    """List snapshots (one active per tenant and list), their entries, the tenant's
    threshold, and the subjects screened so far (personal data: names and dates of birth
    live here, never in the ledger, which holds their digests)."""

    def save_snapshot(self, conn: Any, snapshot: Snapshot, entries: Sequence[ListEntry]) -> None:
        """Store the snapshot and its entries and make it the active one for its list,
        deactivating the one before, all in `conn`'s transaction."""
        ...

    def active_snapshots(self, tenant_id: str) -> list[Snapshot]: ...

    def snapshots(self, tenant_id: str, list_name: str | None = None) -> list[Snapshot]: ...

    def snapshot(self, tenant_id: str, snapshot_id: str) -> Snapshot | None: ...

    def entries(self, snapshot_id: str) -> list[ListEntry]: ...

    def next_version(self, tenant_id: str, list_name: str) -> int: ...

    def remember_subject(
        self, conn: Any, tenant_id: str, subject: str, query: ScreeningQuery
    ) -> None: ...

    def subjects(self, tenant_id: str) -> Iterator[tuple[str, ScreeningQuery]]: ...

    def threshold(self, tenant_id: str) -> float | None: ...

    def set_threshold(self, conn: Any, tenant_id: str, value: float) -> None: ...


class KycStore(Protocol):
    """The newest KYC status per (tenant, subject); the ledger keeps every one."""

    def put(self, conn: Any, status: KycStatus) -> None: ...

    def get(self, tenant_id: str, subject: str) -> KycStatus | None: ...

    def by_reference(self, provider: str, reference: str) -> KycStatus | None: ...


@dataclass(frozen=True, slots=True)
class KycOutcome:
    """What a provider answered: `status` verified | pending | rejected."""

    status: str
    level: KycLevel
    reference: str
    expires_at: datetime | None = None
    reason: str = ""


class KycProvider(Protocol):
    """An identity-verification provider. `verify_*` may answer `pending` (the result
    comes later, by `check_status` or the provider's signed callback). Raises
    `paygod.kernel.errors.Unavailable` when the provider cannot be reached."""

    name: str

    def verify_identity(self, subject: str, identity: Mapping[str, Any]) -> KycOutcome: ...

    def verify_document(self, subject: str, document: Mapping[str, Any]) -> KycOutcome: ...

    def check_status(self, reference: str) -> KycOutcome: ...
