"""Consent records (`identity_consents`) from the `consent` entries the consent registry
seals with each row. Tenants, principals and API keys are rebuilt by the `identity`
projection (`identity.py`); TOTP factors and signing keys are secrets and never sealed."""

from __future__ import annotations

from typing import Any

from paygod.banking.projectors.base import Key, Projector, Row, Table
from paygod.ledger import Entry

CONSENTS = Table(
    "identity_consents",
    (
        "consent_id",
        "tenant_id",
        "subject",
        "purpose",
        "granted",
        "recorded_at",
        "recorded_by",
        "evidence",
    ),
    ("consent_id",),
)


class ConsentProjector(Projector):
    name = "consents"
    tables = (CONSENTS,)
    kinds = frozenset({"consent"})

    def __init__(self, resolve: Any) -> None:
        super().__init__(resolve)
        self._rows: dict[Key, Row] = {}

    def apply(self, entry: Entry) -> None:
        p = entry.payload
        key = (p["consent_id"],)
        self._rows[key] = (
            p["consent_id"],
            entry.tenant_id,
            p["subject"],
            p["purpose"],
            1 if p["status"] == "granted" else 0,
            p["recorded_at"],
            p["recorded_by"],
            p.get("evidence"),
        )
        self.touch(CONSENTS.name, key)

    def rows(self, table: str) -> dict[Key, Row]:
        return dict(self._rows)
