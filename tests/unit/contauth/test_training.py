"""Training from recorded sessions: the principal's own samples are genuine (not those of
sessions that were ended), other principals' of the same tenant are the others."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from paygod.contauth import registry, synthetic
from paygod.contauth.detectors import ISOLATION_FOREST, RANDOM_FOREST
from paygod.contauth.model import FeatureRecord
from paygod.contauth.stores.memory import MemoryContauthStore
from paygod.kernel.errors import InvalidInput

NOW = datetime(2026, 12, 7, tzinfo=UTC)
ROWS = synthetic.generate()


def _store(subjects: dict[str, str], tenant: str = "acme") -> MemoryContauthStore:
    store = MemoryContauthStore()
    records = [
        FeatureRecord(
            f"{r.subject}-{i}",
            f"sess-{r.subject}",
            tenant,
            subjects[r.subject],
            "keystroke",
            r.as_features(),
            NOW,
            NOW + timedelta(days=30),
        )
        for i, r in enumerate(ROWS)
        if r.subject in subjects
    ]
    store.add_features(None, records)
    return store


def test_labelled_sessions_train_a_forest_and_alone_an_isolation_forest() -> None:
    store = _store({"s001": "alice", "s002": "bob", "s003": "carol"})
    data = registry.from_sessions(store, "acme", "alice")
    assert len(data.genuine) == 80 and len(data.others) == 160 and data.other_subjects == 2
    _, meta = registry.train(data)
    assert meta["detector"] == RANDOM_FOREST and meta["metrics"]["eer"] is not None
    alone = registry.from_sessions(_store({"s001": "alice"}), "acme", "alice")
    assert registry.train(alone)[1]["detector"] == ISOLATION_FOREST


def test_other_tenants_samples_are_never_used() -> None:
    store = _store({"s001": "alice"})
    store.add_features(None, _store({"s002": "bob"}, tenant="beta").features("beta", "keystroke"))
    assert len(registry.from_sessions(store, "acme", "alice").others) == 0


def test_too_few_samples_is_refused_with_a_pointer() -> None:
    store = MemoryContauthStore()
    sample = ROWS[0].as_features()
    store.add_features(
        None, [FeatureRecord("f", "s", "acme", "alice", "keystroke", sample, NOW, NOW)]
    )
    with pytest.raises(InvalidInput) as caught:
        registry.train(registry.from_sessions(store, "acme", "alice"))
    assert caught.value.errors[0].pointer == "/principal"
