"""The AML store port: raised alerts (deduplicated by hit key) and the scan cursor."""

from __future__ import annotations

from typing import Any, Protocol

from paygod.aml.model import Alert


class AlertStore(Protocol):
    def cursor(self) -> int:
        """The last ledger seq the incremental monitor has evaluated (-1: none)."""
        ...

    def advance(self, conn: Any, old: int, new: int) -> bool:
        """Move the cursor from `old` to `new`; False (nothing changed) when another
        process moved it first."""
        ...

    def add(self, conn: Any, alert: Alert) -> bool:
        """Store `alert`; False when an alert with its key is already stored."""
        ...

    def known(self, key: str) -> bool: ...

    def get(self, alert_id: str) -> Alert | None: ...

    def list(
        self, tenant_id: str | None, typology: str | None = None, until: str | None = None
    ) -> list[Alert]:
        """Alerts oldest first; `until` (an ISO instant) keeps those raised by then."""
        ...
