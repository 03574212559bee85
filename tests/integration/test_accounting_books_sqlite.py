"""The books state machine again, on SQLite with the real ledger (fewer, slower examples)."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, settings

from paygod.accounting.service import AccountingService
from paygod.accounting.stores.sqlite import SqliteAccountStore
from paygod.kernel.clock import ManualClock
from paygod.kernel.database import SqliteDatabase, migrate
from paygod.kernel.settings import load_settings
from paygod.ledger import EntryDraft
from paygod.ledger.wiring import ledger_from_settings
from tests.unit.accounting.test_stateful import Books

_TEMPLATE: dict[str, Path] = {}


def _template() -> Path:
    # Migrating costs most of a second: do it once, copy the file for every example.
    if "db" not in _TEMPLATE:
        folder = Path(tempfile.mkdtemp(prefix="paygod-books-"))
        db = SqliteDatabase(folder / "template.db")
        migrate(db)
        db.close()
        _TEMPLATE["db"] = folder / "template.db"
    return _TEMPLATE["db"]


class SqliteBooks(Books):
    def make_service(self, clock: ManualClock) -> AccountingService:
        home = Path(tempfile.mkdtemp(prefix="paygod-books-"))
        self.home = home
        shutil.copy(_template(), home / "paygod.db")
        db = SqliteDatabase(home / "paygod.db")
        ledger = ledger_from_settings(load_settings(home=home), db, clock)
        self.ledger = ledger
        return AccountingService(SqliteAccountStore(db), ledger, clock, EntryDraft)

    def teardown(self) -> None:
        self.ledger.close()
        shutil.rmtree(self.home, ignore_errors=True)


TestSqliteBooks = SqliteBooks.TestCase
TestSqliteBooks.settings = settings(
    max_examples=8,
    stateful_step_count=20,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
