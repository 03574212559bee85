"""One contract for every contauth store: memory, SQLite, PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from paygod.contauth.model import FeatureRecord, SessionState, SessionTrust, StoredModel
from paygod.contauth.stores.memory import MemoryContauthStore
from paygod.contauth.stores.sql import SqlContauthStore
from paygod.decisions.ports import DuplicateKey
from paygod.kernel.database import Database
from paygod.kernel.errors import Conflict
from tests.contract.test_risk_stores import database, transaction  # noqa: F401

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
ARTEFACT = bytes(range(256)) * 2


def _store(db: Database | None) -> Any:
    return MemoryContauthStore() if db is None else SqlContauthStore(db)


def _session(session_id: str = "s1", principal: str = "p1") -> SessionTrust:
    return SessionTrust(session_id, "acme", principal, NOW + timedelta(minutes=15))


def test_a_session_opens_once_and_saves_its_trust(database: Database | None) -> None:  # noqa: F811
    store = _store(database)
    store.open(_session())
    store.open(_session().moved(trust=0.1))  # a second open of the same id changes nothing
    assert store.get("s1") == _session()
    moved = _session().moved(
        trust=0.42, state=SessionState.STEP_UP_REQUIRED, events=7, reasons=("H.t 4.0",),
        device="sha256:ab", model_version=3, updated_at=NOW,
    )  # fmt: skip
    with transaction(database) as conn:
        store.save(conn, moved, expected=_session())
    assert store.get("s1") == moved
    # A writer that read the session before `moved` was saved loses, and changes nothing.
    with pytest.raises(Conflict), transaction(database) as conn:
        store.save(conn, moved.moved(trust=0.9, events=8), expected=_session())
    assert store.get("s1") == moved
    # Nor does one whose batch scored no event: the count alone would not tell them apart.
    same_count = moved.moved(trust=0.5, updated_at=NOW + timedelta(seconds=1))
    with transaction(database) as conn:
        store.save(conn, same_count, expected=moved)
    with pytest.raises(Conflict), transaction(database) as conn:
        store.save(conn, moved.moved(trust=0.1), expected=moved)
    assert store.get("s1") == same_count
    assert store.get("nope") is None
    store.open(_session("s2"))
    store.open(_session("s3", principal="p2"))
    assert {s.session_id for s in store.sessions("acme", "p1")} == {"s1", "s2"}
    assert store.sessions("other", "p1") == []


def test_features_are_kept_per_tenant_and_kind_and_purged_after_retention(
    database: Database | None,  # noqa: F811
) -> None:
    store = _store(database)

    def record(i: int, tenant: str, kind: str, days: int) -> FeatureRecord:
        return FeatureRecord(
            f"f{i}", "s1", tenant, "p1", kind, {"H.t": 0.1 * i}, NOW, NOW + timedelta(days=days)
        )

    with transaction(database) as conn:
        store.add_features(
            conn,
            [record(1, "acme", "keystroke", 1), record(2, "acme", "pointer", 30),
             record(3, "beta", "keystroke", 30), record(4, "acme", "keystroke", 30)],
        )  # fmt: skip
    found = store.features("acme", "keystroke")
    assert [f.feature_id for f in found] == ["f1", "f4"]
    assert found[0].features == {"H.t": 0.1} and found[0].retention_class == "behavioural-30d"
    assert store.purge(NOW + timedelta(days=2)) == 1
    assert [f.feature_id for f in store.features("acme", "keystroke")] == ["f4"]
    assert [f.feature_id for f in store.features("beta", "keystroke")] == ["f3"]


def test_models_are_versioned_per_principal_and_a_version_is_taken_once(
    database: Database | None,  # noqa: F811
) -> None:
    store = _store(database)
    assert store.model("acme", "p1") is None and store.versions("acme", "p1") == []
    for version in (1, 2):
        with transaction(database) as conn:
            store.put_model(
                conn,
                StoredModel("acme", "p1", version, f"sha256:{version}", ARTEFACT, {"v": version}),
            )
    with transaction(database) as conn:
        store.put_model(conn, StoredModel("acme", "p2", 1, "sha256:x", b"x", {}))
    latest = store.model("acme", "p1")
    assert latest is not None and latest.version == 2 and latest.artefact == ARTEFACT
    first = store.model("acme", "p1", 1)
    assert first is not None and dict(first.meta) == {"v": 1}
    assert store.versions("acme", "p1") == [1, 2] and store.versions("beta", "p1") == []
    with pytest.raises(DuplicateKey), transaction(database) as conn:
        store.put_model(conn, StoredModel("acme", "p1", 2, "sha256:y", b"y", {}))
