"""One contract for every model store and case store: memory, SQLite, PostgreSQL."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from paygod.cases.model import Case, CaseStatus, CaseStep
from paygod.cases.stores.cases import MemoryCaseStore, SqlCaseStore
from paygod.decisions.ports import DuplicateKey
from paygod.kernel.database import Database, SqliteDatabase
from paygod.risk.model import StoredModel
from paygod.risk.stores.models import MemoryModelStore, SqlModelStore
from tests.contract.outbox_support import postgres_database, sqlite_database


@pytest.fixture(params=["memory", "sqlite", "postgres"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database | None]:
    if request.param == "memory":
        yield None
    elif request.param == "sqlite":
        db = sqlite_database(tmp_path)
        yield db
        db.close()
    else:
        with postgres_database(request.getfixturevalue("postgres_url")) as pg:
            yield pg


@contextlib.contextmanager
def transaction(db: Database | None) -> Iterator[Any]:
    """What the ledger hands a store: a connection inside its write transaction."""
    if db is None:
        yield None
    elif isinstance(db, SqliteDatabase):
        conn = db.connection()
        with conn:
            yield conn
    else:
        with db.connection() as conn, conn.transaction():
            yield conn


def _models(db: Database | None) -> Any:
    return MemoryModelStore() if db is None else SqlModelStore(db)


def _cases(db: Database | None) -> Any:
    return MemoryCaseStore() if db is None else SqlCaseStore(db)


ARTEFACT = bytes(range(256)) * 4  # every byte value, NUL included


def test_models_round_trip_their_bytes_and_newest_is_latest(database: Database | None) -> None:
    store = _models(database)
    assert store.latest() is None and store.versions() == []
    for version in (1, 2):
        with transaction(database) as conn:
            store.put(conn, StoredModel(version, f"sha256:{version}", ARTEFACT, {"v": version}))
    got = store.get(1)
    assert got is not None and got.artefact == ARTEFACT and dict(got.meta) == {"v": 1}
    assert store.latest().version == 2
    assert store.versions() == [1, 2]
    assert store.get(3) is None


def test_a_model_version_is_taken_once(database: Database | None) -> None:
    store = _models(database)
    with transaction(database) as conn:
        store.put(conn, StoredModel(1, "sha256:a", b"a", {}))
    with pytest.raises(DuplicateKey), transaction(database) as conn:
        store.put(conn, StoredModel(1, "sha256:b", b"b", {}))
    assert store.get(1).artefact == b"a"


def _case(case_id: str, tenant: str = "acme", subject: str = "card:1") -> Case:
    data = {
        "case_id": case_id,
        "tenant_id": tenant,
        "subject": subject,
        "alert_type": "card_testing",
        "raised_by": "agent-1",
        "alert": {
            "alert_id": f"al-{case_id}",
            "alert_type": "card_testing",
            "subject": subject,
            "risk_score": 0.85,
        },
    }
    return Case.opened(data, "2026-01-01T00:00:00Z", 1)


def test_cases_save_list_and_find_the_open_one(database: Database | None) -> None:
    store = _cases(database)
    first, other = _case("c1"), _case("c2", tenant="globex")
    with transaction(database) as conn:
        store.save(conn, first)
        store.save(conn, other)
    assert store.get("c1") == first
    assert [c.case_id for c in store.list("acme")] == ["c1"]
    assert {c.case_id for c in store.list(None)} == {"c1", "c2"}
    assert store.open_case("acme", "card:1", "card_testing") == first
    assert store.open_case("acme", "card:1", "structuring") is None
    assigned = first.apply(CaseStep.ASSIGNED, {"assignee": "officer"}, "2026-01-01T01:00:00Z", 2)
    closed = assigned.apply(
        CaseStep.CLOSED, {"disposition": "false_positive", "actor": "officer"}, "t", 3
    )
    with transaction(database) as conn:
        store.save(conn, closed)
    assert store.get("c1") == closed
    assert [c.case_id for c in store.list("acme", "closed")] == ["c1"]
    assert store.list("acme", CaseStatus.OPEN.value) == []
    assert store.open_case("acme", "card:1", "card_testing") is None


def test_an_alert_links_to_one_case_once(database: Database | None) -> None:
    store = _cases(database)
    with transaction(database) as conn:
        assert store.link_alert(conn, "al-1", "c1") is True
    with transaction(database) as conn:
        assert store.link_alert(conn, "al-1", "c2") is False
    assert store.case_of_alert("al-1") == "c1"
    assert store.case_of_alert("al-2") is None


def test_a_saved_case_keeps_unicode_and_history(database: Database | None) -> None:
    store = _cases(database)
    case = _case("c9")
    case = case.apply(CaseStep.COMMENTED, {"text": "Zoë's note — ✓", "actor": "o"}, "t", 4)
    with transaction(database) as conn:
        store.save(conn, case)
    got = store.get("c9")
    assert got == case and got.comments[0]["text"] == "Zoë's note — ✓"
    assert replace(got, comments=()) != got
