"""One contract for every payee vault: memory, SQLite, PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from paygod.identity.sealing import SecretBox
from paygod.kernel.clock import SystemClock
from paygod.kernel.database import Database, SqliteDatabase
from paygod.ledger import LedgerService
from paygod.ledger.wiring import store_for
from paygod.payments.ports import PayeeVault
from paygod.payments.stores.payees import MemoryPayeeVault, SqlPayeeVault, payee_subject
from paygod.privacy.service import PrivacyService
from paygod.privacy.stores.sql import SqlVault
from tests.contract.outbox_support import postgres_database, sqlite_database

PAYEE = {"name": "Zoë Müller", "iban": "DE89370400440532013000", "bic": "COBADEFFXXX"}


def _privacy(db: Database) -> PrivacyService:
    store = SqlVault(db)
    return PrivacyService(
        LedgerService(store_for(db), SystemClock()),
        store,
        store,
        SystemClock(),
        SecretBox.ephemeral(),
    )


@pytest.fixture(params=["memory", "sqlite", "postgres", "sqlite-vault", "postgres-vault"])
def vault(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[PayeeVault]:
    if request.param == "memory":
        yield MemoryPayeeVault()
    elif request.param.startswith("sqlite"):
        db = sqlite_database(tmp_path)
        yield SqlPayeeVault(db, _privacy(db) if request.param.endswith("vault") else None)
        db.close()
    else:
        with postgres_database(request.getfixturevalue("postgres_url")) as pg:
            yield SqlPayeeVault(pg, _privacy(pg) if request.param.endswith("vault") else None)


def test_put_then_get_round_trips_unicode_details(vault: PayeeVault) -> None:
    assert vault.get("p1") is None
    vault.put(None, "p1", PAYEE)
    assert vault.get("p1") == PAYEE


def test_the_first_payee_of_a_payment_stays_and_only_its_put_claims_the_payment(
    vault: PayeeVault,
) -> None:
    assert vault.put(None, "p1", PAYEE) is True
    assert vault.put(None, "p1", {"name": "Mallory", "iban": "GB33BUKB20201555555555"}) is False
    assert vault.get("p1") == PAYEE
    assert vault.put(None, "p2", PAYEE) is True


def test_a_returned_payee_is_a_copy(vault: PayeeVault) -> None:
    vault.put(None, "p1", PAYEE)
    got = vault.get("p1")
    assert got is not None
    got["name"] = "changed"
    assert vault.get("p1") == PAYEE


def test_a_vaulted_payee_row_holds_no_personal_data_and_erasure_shreds_it(
    tmp_path: Path,
) -> None:
    db = sqlite_database(tmp_path)
    privacy = _privacy(db)
    vault = SqlPayeeVault(db, privacy)
    assert vault.put(None, "p1", PAYEE, tenant_id="t1") is True
    (stored,) = db.connection().execute("SELECT payee FROM payment_payees").fetchone()
    assert "Zo" not in stored and "DE89" not in stored and "urn:paygod:vault:" in stored
    assert vault.get("p1") == PAYEE
    privacy.erase("t1", payee_subject(PAYEE), "officer")
    assert vault.get("p1") is None
    assert isinstance(db, SqliteDatabase)
    db.close()
