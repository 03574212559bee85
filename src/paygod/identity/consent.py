"""GDPR consent: record, query and revoke a data subject's consent per purpose.

Subjects are references (`urn:...`, `sha256:...`), never raw personal data. Every change
is a row here and, when the ledger is wired, a `consent` ledger entry in the same
transaction, so "did we have consent at time T" is answerable from the ledger alone.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from paygod.identity.model import ConsentRecord
from paygod.identity.ports import ConsentStore
from paygod.kernel.clock import Clock
from paygod.kernel.errors import FieldError, InvalidInput
from paygod.kernel.record_ids import new_id

# What other modules call before processing for a purpose: (tenant_id, subject, purpose).
ConsentChecker = Callable[[str, str, str], bool]


def _check_reference(subject: str) -> None:
    if not subject.startswith(("urn:", "sha256:")) or len(subject) > 256:
        raise InvalidInput(
            "a data subject is referenced, never named",
            errors=[FieldError("/subject", "must be a urn: or sha256: reference")],
        )


class ConsentRegistry:
    def __init__(
        self, store: ConsentStore, clock: Clock, ledger: Callable[[], Any] | None = None
    ) -> None:
        self.store = store
        self.clock = clock
        # Returns the LedgerService once wired (None before); looked up late because the
        # composition root may build the ledger after identity. Typed loosely on purpose.
        self._ledger = ledger or (lambda: None)

    @property
    def ledger(self) -> Any:
        return self._ledger()

    def record(
        self,
        tenant_id: str,
        subject: str,
        purpose: str,
        *,
        granted: bool,
        actor: str,
        evidence: str | None = None,
    ) -> ConsentRecord:
        _check_reference(subject)
        if not purpose or len(purpose) > 100:
            raise InvalidInput("a purpose is required", errors=[FieldError("/purpose", "empty")])
        record = ConsentRecord(
            new_id(), tenant_id, subject, purpose, granted, self.clock.now(), actor, evidence
        )
        ledger = self.ledger
        if ledger is None:
            self.store.add_consent(None, record)
            return record
        import importlib

        entry_draft = importlib.import_module("paygod.ledger").EntryDraft
        draft = entry_draft(
            kind="consent",
            subject=f"consent:{subject}:{purpose}",
            payload=record.as_dict(),
            tenant_id=tenant_id,
            valid_from=record.recorded_at,
        )

        def work(conn: Any) -> tuple[None, list[Any]]:
            self.store.add_consent(conn, record)
            return None, [draft]

        ledger.transact(work)
        return record

    def history(self, tenant_id: str, subject: str) -> list[ConsentRecord]:
        return self.store.consent_history(tenant_id, subject)

    def current(self, tenant_id: str, subject: str) -> dict[str, ConsentRecord]:
        """The latest record per purpose."""
        latest: dict[str, ConsentRecord] = {}
        for record in self.history(tenant_id, subject):
            latest[record.purpose] = record
        return latest

    def check(self, tenant_id: str, subject: str, purpose: str) -> bool:
        """The `ConsentChecker`: consent is given only by an unrevoked grant for this purpose."""
        found = self.current(tenant_id, subject).get(purpose)
        return bool(found and found.granted)
