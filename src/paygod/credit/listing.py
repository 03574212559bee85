"""How applications and loans are listed: one tenant-tagged ledger entry per aggregate on a
shared subject (a "book"), sealed in the transaction that creates it, so a list never
misses one nor names one never recorded, and reads as of any past time (one indexed range
read of the tenant's entries, not a scan of the ledger)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from paygod.ledger import EntryDraft, LedgerService


@dataclass(frozen=True, slots=True)
class Book:
    kind: str
    subject: str
    id_key: str  # the payload member holding the aggregate's id
    owner_key: str  # the payload member holding its principal (scope `own`)

    def entry(self, aggregate_id: str, owner: str, tenant_id: str) -> EntryDraft:
        return EntryDraft(
            kind=self.kind,
            subject=self.subject,
            payload={self.id_key: aggregate_id, self.owner_key: owner},
            tenant_id=tenant_id,
        )

    def ids(
        self,
        ledger: LedgerService,
        tenant_id: str | None,
        owner: str | None = None,
        at: datetime | None = None,
    ) -> list[str]:
        """Ids in the order they were booked; `owner`'s only when given."""
        return [
            str(e.payload[self.id_key])
            for e in ledger.as_of(self.subject, recorded_at=at, tenant_id=tenant_id)
            if e.kind == self.kind and (owner is None or e.payload[self.owner_key] == owner)
        ]


APPLICATIONS = Book(
    "credit.application-book", "credit-application-book", "application_id", "applicant"
)
LOANS = Book("credit.loan-book", "credit-loan-book", "loan_id", "borrower")
LINES = Book("credit.line-book", "credit-line-book", "line_id", "borrower")
