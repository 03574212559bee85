"""One contract for the sanctions store and the KYC store: memory, SQLite, PostgreSQL."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from paygod.compliance.model import KycLevel, KycStatus, ListEntry, ScreeningQuery, Snapshot
from paygod.compliance.ports import KycStore, SanctionsStore
from paygod.compliance.stores.memory import MemoryKycStore, MemorySanctionsStore
from paygod.compliance.stores.sql import SqlKycStore, SqlSanctionsStore
from paygod.kernel.database import PostgresDatabase, SqliteDatabase
from tests.contract.outbox_support import postgres_database, sqlite_database

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


@dataclass
class Backend:
    sanctions: SanctionsStore
    kyc: KycStore
    transaction: Callable[[], contextlib.AbstractContextManager[Any]]


@contextlib.contextmanager
def _no_transaction() -> Iterator[None]:
    yield None


def _sqlite_transaction(db: SqliteDatabase) -> Callable[[], contextlib.AbstractContextManager[Any]]:
    @contextlib.contextmanager
    def run() -> Iterator[Any]:
        conn = db.connect()
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        else:
            conn.execute("COMMIT")
        finally:
            conn.close()

    return run


def _postgres_transaction(
    db: PostgresDatabase,
) -> Callable[[], contextlib.AbstractContextManager[Any]]:
    @contextlib.contextmanager
    def run() -> Iterator[Any]:
        with db.connection() as conn, conn.transaction():
            yield conn

    return run


@pytest.fixture(params=["memory", "sqlite", "postgres"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    if request.param == "memory":
        yield Backend(MemorySanctionsStore(), MemoryKycStore(), _no_transaction)
    elif request.param == "sqlite":
        db = sqlite_database(tmp_path)
        yield Backend(SqlSanctionsStore(db), SqlKycStore(db), _sqlite_transaction(db))
        db.close()
    else:
        with postgres_database(request.getfixturevalue("postgres_url")) as pg:
            yield Backend(SqlSanctionsStore(pg), SqlKycStore(pg), _postgres_transaction(pg))


def entry(entry_id: str, *names: str) -> ListEntry:
    return ListEntry("ofac", entry_id, None, "individual", names, ("1952-10-07",), ("RU",), ("X",))


def snapshot(snapshot_id: str, version: int, tenant: str = "t1", lst: str = "ofac") -> Snapshot:
    return Snapshot(
        snapshot_id, tenant, lst, "ofac-xml", "sdn.xml", "sha256:" + "0" * 64, 2, version, NOW
    )


def test_a_saved_snapshot_becomes_the_active_one_with_its_entries(backend: Backend) -> None:
    store = backend.sanctions
    assert store.active_snapshots("t1") == [] and store.next_version("t1", "ofac") == 1
    first = [entry("1", "Vladimir Vladimirovich PUTIN", "Владимир Путин"), entry("2", "ACME")]
    with backend.transaction() as conn:
        store.save_snapshot(conn, snapshot("s1", 1), first)
    assert [s.snapshot_id for s in store.active_snapshots("t1")] == ["s1"]
    assert store.entries("s1") == first
    assert store.next_version("t1", "ofac") == 2
    with backend.transaction() as conn:
        store.save_snapshot(conn, snapshot("s2", 2), [entry("3", "Other")])
    assert [s.snapshot_id for s in store.active_snapshots("t1")] == ["s2"]
    history = store.snapshots("t1", "ofac")
    assert [(s.snapshot_id, s.active, s.version) for s in history] == [
        ("s1", False, 1),
        ("s2", True, 2),
    ]
    assert store.entries("s1") == first  # old versions stay readable


def test_one_active_snapshot_per_list_and_tenant(backend: Backend) -> None:
    store = backend.sanctions
    with backend.transaction() as conn:
        store.save_snapshot(conn, snapshot("a", 1), [entry("1", "A")])
    with backend.transaction() as conn:
        store.save_snapshot(conn, snapshot("b", 1, lst="eu"), [entry("1", "A")])
    with backend.transaction() as conn:
        store.save_snapshot(conn, snapshot("c", 1, tenant="t2"), [entry("1", "A")])
    assert [(s.list, s.snapshot_id) for s in store.active_snapshots("t1")] == [
        ("eu", "b"),
        ("ofac", "a"),
    ]
    assert [s.snapshot_id for s in store.active_snapshots("t2")] == ["c"]


def test_another_tenants_snapshot_is_not_found(backend: Backend) -> None:
    store = backend.sanctions
    with backend.transaction() as conn:
        store.save_snapshot(conn, snapshot("s1", 1), [entry("1", "A")])
    assert store.snapshot("t1", "s1") is not None
    assert store.snapshot("t2", "s1") is None
    assert store.snapshots("t2") == []


def test_a_failed_switch_leaves_the_previous_snapshot_active(backend: Backend) -> None:
    if backend.transaction is _no_transaction:
        pytest.skip("the memory store has no transaction: the ledger's write is its unit")
    store = backend.sanctions
    with backend.transaction() as conn:
        store.save_snapshot(conn, snapshot("s1", 1), [entry("1", "A")])
    with pytest.raises(RuntimeError), backend.transaction() as conn:
        store.save_snapshot(conn, snapshot("s2", 2), [entry("2", "B")])
        raise RuntimeError("the ledger append failed")
    assert [s.snapshot_id for s in store.active_snapshots("t1")] == ["s1"]
    assert store.entries("s2") == [] and store.snapshot("t1", "s2") is None


def test_subjects_are_remembered_per_tenant_and_updated(backend: Backend) -> None:
    store = backend.sanctions
    store.remember_subject(None, "t1", "sha256:aa", ScreeningQuery("Zoë Müller", "1980", "DE"))
    store.remember_subject(None, "t1", "customer:2", ScreeningQuery("Jean Dupont"))
    store.remember_subject(None, "t1", "customer:2", ScreeningQuery("Jean Dupond", None, "FR"))
    store.remember_subject(None, "t2", "customer:9", ScreeningQuery("Other"))
    assert list(store.subjects("t1")) == [
        ("customer:2", ScreeningQuery("Jean Dupond", None, "FR")),
        ("sha256:aa", ScreeningQuery("Zoë Müller", "1980", "DE")),
    ]


def test_thresholds_are_per_tenant(backend: Backend) -> None:
    store = backend.sanctions
    assert store.threshold("t1") is None
    store.set_threshold(None, "t1", 0.9)
    store.set_threshold(None, "t1", 0.875)
    assert store.threshold("t1") == 0.875 and store.threshold("t2") is None


def test_kyc_status_round_trips_and_is_found_by_reference(backend: Backend) -> None:
    store = backend.kyc
    assert store.get("t1", "customer:1") is None
    status = KycStatus(
        "t1",
        "customer:1",
        KycLevel.FULL,
        "verified",
        "sim",
        "ref-1",
        NOW,
        NOW + timedelta(days=365),
    )
    store.put(None, status)
    assert store.get("t1", "customer:1") == status
    assert store.get("t2", "customer:1") is None
    assert store.by_reference("sim", "ref-1") == status
    assert store.by_reference("other", "ref-1") is None
    pending = KycStatus("t1", "customer:1", KycLevel.NONE, "pending", "sim", "ref-2")
    store.put(None, pending)
    assert store.get("t1", "customer:1") == pending


def test_an_expired_verification_counts_as_none(backend: Backend) -> None:
    status = KycStatus(
        "t1", "c", KycLevel.BASIC, "verified", "sim", "r", NOW, NOW + timedelta(days=1)
    )
    backend.kyc.put(None, status)
    found = backend.kyc.get("t1", "c")
    assert found is not None
    assert found.effective_level(NOW) is KycLevel.BASIC
    assert found.effective_level(NOW + timedelta(days=2)) is KycLevel.NONE
