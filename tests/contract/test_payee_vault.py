"""One contract for every payee vault: memory, SQLite, PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from paygod.payments.ports import PayeeVault
from paygod.payments.stores.payees import MemoryPayeeVault, SqlPayeeVault
from tests.contract.outbox_support import postgres_database, sqlite_database

PAYEE = {"name": "Zoë Müller", "iban": "DE89370400440532013000", "bic": "COBADEFFXXX"}


@pytest.fixture(params=["memory", "sqlite", "postgres"])
def vault(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[PayeeVault]:
    if request.param == "memory":
        yield MemoryPayeeVault()
    elif request.param == "sqlite":
        db = sqlite_database(tmp_path)
        yield SqlPayeeVault(db)
        db.close()
    else:
        with postgres_database(request.getfixturevalue("postgres_url")) as pg:
            yield SqlPayeeVault(pg)


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
