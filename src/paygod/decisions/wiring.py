"""Build the decision service from settings (called by the composition root, paygod.bootstrap)."""

from __future__ import annotations

from paygod.decisions.bundles import Keyring
from paygod.decisions.packs import PackRepository
from paygod.decisions.ports import DecisionIndex
from paygod.decisions.service import DecisionService
from paygod.decisions.stores.memory import MemoryDecisionIndex
from paygod.decisions.stores.sql import SqlDecisionIndex
from paygod.kernel.clock import Clock
from paygod.kernel.database import Database
from paygod.kernel.errors import InvalidInput, InvalidSettings
from paygod.kernel.logging import get_logger
from paygod.kernel.settings import Settings
from paygod.ledger import LedgerService


def index_for(ledger: LedgerService, db: Database) -> DecisionIndex:
    # The index must live where the ledger's write transaction runs, so that a decision
    # and its index row commit together.
    if ledger.store.name in ("sqlite", "postgres"):
        return SqlDecisionIndex(db)
    return MemoryDecisionIndex()


def decisions_from_settings(
    settings: Settings, db: Database, clock: Clock, ledger: LedgerService
) -> DecisionService:
    keyring = None
    if settings.packs_trusted_keys is not None:
        try:
            keyring = Keyring.load(settings.packs_trusted_keys)
        except InvalidInput as exc:
            raise InvalidSettings(f"PAYGOD_PACKS_TRUSTED_KEYS: {exc.detail}") from None
    packs = PackRepository(settings.packs, keyring=keyring)
    if keyring is None and not packs.bundled:
        get_logger(__name__).warning(
            "packs.unsigned",
            directory=str(packs.directory),
            detail="dev mode: unsigned packs are enforced; set PAYGOD_PACKS_TRUSTED_KEYS",
        )
    return DecisionService(ledger, packs, clock, index_for(ledger, db))
