"""Build the decision service from settings (called by the composition root, paygod.bootstrap)."""

from __future__ import annotations

from pathlib import Path

from paygod.decisions.bundles import Keyring
from paygod.decisions.packs import PackRepository
from paygod.decisions.ports import DecisionIndex
from paygod.decisions.service import DecisionService
from paygod.decisions.sources import (
    DatabaseSource,
    GitSource,
    PolicySource,
    Snapshot,
    SourcePoller,
)
from paygod.decisions.stores.memory import MemoryDecisionIndex
from paygod.decisions.stores.sql import SqlDecisionIndex
from paygod.kernel.clock import Clock
from paygod.kernel.database import Database
from paygod.kernel.errors import InvalidInput, InvalidSettings
from paygod.kernel.events import EventEnvelope
from paygod.kernel.logging import get_logger
from paygod.kernel.settings import Settings
from paygod.ledger import LedgerService
from paygod.ledger.model import EntryDraft

SOURCE_REFUSED = "policy.source_refused"


def index_for(ledger: LedgerService, db: Database) -> DecisionIndex:
    # The index must live where the ledger's write transaction runs, so that a decision
    # and its index row commit together.
    if ledger.store.name in ("sqlite", "postgres"):
        return SqlDecisionIndex(db)
    return MemoryDecisionIndex()


def source_poller(
    settings: Settings, ledger: LedgerService, keyring: Keyring | None
) -> SourcePoller | None:
    """PAYGOD_PACKS_SOURCE: a Git repository or the database instead of the directory; a
    refused version is sealed (`policy.source_refused`) with an outbox event."""
    chosen = settings.packs_source
    if chosen is None:
        return None
    cache = settings.home / "policy" / ".sources"
    source: PolicySource
    if chosen == "database":
        source = DatabaseSource(ledger.history, cache / "database")
    elif chosen.startswith("git:"):
        path, _, ref = chosen.removeprefix("git:").partition("#")
        source = GitSource(Path(path), cache / "git", ref=ref or "HEAD")
    else:
        raise InvalidSettings("PAYGOD_PACKS_SOURCE must be 'git:<path>[#<ref>]' or 'database'")

    def refused(snapshot: Snapshot, reason: str) -> None:
        payload = {"source": snapshot.source, "version": snapshot.version, "reason": reason}
        get_logger(__name__).warning("packs.source_refused", **payload)
        now = ledger.clock.now()
        event = EventEnvelope(
            event_type=SOURCE_REFUSED,
            aggregate_id=snapshot.source,
            aggregate_type="policy",
            tenant_id="*",
            payload=payload,
            occurred_at=now,
            recorded_at=now,
        )
        ledger.append(
            EntryDraft(SOURCE_REFUSED, "policy:sources", payload, tenant_id="*", events=(event,))
        )

    return SourcePoller(source, keyring, refused)


def decisions_from_settings(
    settings: Settings, db: Database, clock: Clock, ledger: LedgerService
) -> DecisionService:
    keyring = None
    if settings.packs_trusted_keys is not None:
        try:
            keyring = Keyring.load(settings.packs_trusted_keys)
        except InvalidInput as exc:
            raise InvalidSettings(f"PAYGOD_PACKS_TRUSTED_KEYS: {exc.detail}") from None
    poller = source_poller(settings, ledger, keyring)
    packs = PackRepository(settings.packs, keyring=keyring, source=poller)
    if keyring is None and not packs.bundled:
        get_logger(__name__).warning(
            "packs.unsigned",
            directory=str(packs.directory),
            detail="dev mode: unsigned packs are enforced; set PAYGOD_PACKS_TRUSTED_KEYS",
        )
    return DecisionService(ledger, packs, clock, index_for(ledger, db))
