from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from paygod.bootstrap import Kernel, build_kernel
from paygod.identity.service import IdentityService
from paygod.identity.settings import IdentitySettings
from paygod.identity.stores.memory import MemoryIdentityStore
from paygod.kernel.clock import ManualClock
from paygod.kernel.database import SqliteDatabase, migrate
from paygod.kernel.settings import load_settings

START = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="session")
def migrated_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Migrate once per session; each test copies the file (Alembic costs ~1 s a run)."""
    path = tmp_path_factory.mktemp("identity-template") / "paygod.db"
    db = SqliteDatabase(path)
    migrate(db)
    db.close()
    return path


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
def db(migrated_template: Path, tmp_path: Path) -> Iterator[SqliteDatabase]:
    path = tmp_path / "paygod.db"
    path.write_bytes(migrated_template.read_bytes())
    database = SqliteDatabase(path)
    yield database
    database.close()


@pytest.fixture(params=["sql", "memory"])
def identity(
    request: pytest.FixtureRequest, db: SqliteDatabase, clock: ManualClock
) -> IdentityService:
    """The same use cases over the tables and over the memory store (`ports.py`)."""
    if request.param == "memory":
        return IdentityService(
            None, clock, store=MemoryIdentityStore(), settings=IdentitySettings()
        )
    return IdentityService(db, clock, settings=IdentitySettings())


@pytest.fixture
def sql_identity(db: SqliteDatabase, clock: ManualClock) -> IdentityService:
    return IdentityService(db, clock, settings=IdentitySettings())


@pytest.fixture
def kernel(
    migrated_template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Kernel]:
    home = tmp_path / "home"
    home.mkdir()
    (home / "paygod.db").write_bytes(migrated_template.read_bytes())
    for name in ("PAYGOD_DATABASE_URL", "PAYGOD_REDIS_URL", "PAYGOD_CLOCK"):
        monkeypatch.delenv(name, raising=False)
    built = build_kernel(load_settings(home=home))
    yield built
    built.close()
