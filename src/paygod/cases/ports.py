"""The port the cases module owns."""

from __future__ import annotations

from typing import Any, Protocol

from paygod.cases.model import Case


class CaseStore(Protocol):
    """Current case state (the projection of its ledger entries) and alert links.

    Writes run on the ledger transaction `conn` that records the step. `link_alert` says
    whether this call linked the alert (False: it was already linked: a redelivered event).
    """

    def save(self, conn: Any, case: Case) -> None: ...

    def get(self, case_id: str) -> Case | None: ...

    def list(self, tenant_id: str | None, status: str | None = None) -> list[Case]: ...

    def open_case(self, tenant_id: str, subject: str, alert_type: str) -> Case | None: ...

    def link_alert(self, conn: Any, alert_id: str, case_id: str) -> bool: ...

    def case_of_alert(self, alert_id: str) -> str | None: ...
