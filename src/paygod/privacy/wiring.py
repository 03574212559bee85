"""Build the vault and retention services (called by the composition root)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from paygod.identity.sealing import SecretBox, load_box
from paygod.identity.service import IdentityService
from paygod.identity.settings import load_identity_settings
from paygod.kernel.clock import Clock
from paygod.kernel.database import Database
from paygod.kernel.settings import Settings
from paygod.ledger import LedgerService
from paygod.privacy.retention import RetentionService
from paygod.privacy.service import PrivacyService
from paygod.privacy.stores.sql import SqlVault


@dataclass(frozen=True)
class Privacy:
    vault: PrivacyService
    retention: RetentionService


def kek_box(settings: Settings) -> SecretBox:
    """The same KEK identity seals its secrets with (PAYGOD_KEK or PAYGOD_HOME/keys/kek,
    refused when others can read it)."""
    kek = load_identity_settings().kek
    return load_box(settings.home, kek.get_secret_value() if kek else None)


def build_privacy(
    settings: Settings,
    db: Database,
    clock: Clock,
    ledger: LedgerService,
    identity: IdentityService,
) -> Privacy:
    store = SqlVault(db)

    def consents(tenant_id: str, subject: str) -> list[dict[str, Any]]:
        return [c.as_dict() for c in identity.consent.history(tenant_id, subject)]

    vault = PrivacyService(ledger, store, store, clock, kek_box(settings), consents)
    retention = RetentionService(ledger, vault, store, store, clock, identity.audit.purge)
    return Privacy(vault, retention)
