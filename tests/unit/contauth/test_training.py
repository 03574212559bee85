"""Training from recorded sessions: the principal's own samples are genuine (not those of
sessions that were ended), other principals' of the same tenant are the others."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from paygod.contauth import detectors, registry, synthetic
from paygod.contauth.detectors import ISOLATION_FOREST, RANDOM_FOREST
from paygod.contauth.model import FeatureRecord, SessionTrust, Thresholds
from paygod.contauth.scoring import apply
from paygod.contauth.signals import parse_batch
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


def _movements(
    rng: np.random.Generator, speed: float, curvature: float, n: int
) -> list[dict[str, float]]:
    return [
        {
            "speed_mean": float(rng.normal(speed, speed * 0.1)),
            "speed_std": float(abs(rng.normal(speed * 0.2, speed * 0.03))),
            "acceleration_mean": float(rng.normal(10, 3)),
            "acceleration_std": float(abs(rng.normal(300, 30))),
            "curvature_mean": float(abs(rng.normal(curvature, curvature * 0.1))),
            "curvature_std": float(abs(rng.normal(curvature / 2, curvature * 0.05))),
            "duration_seconds": float(abs(rng.normal(1.5, 0.2))),
            "events": float(rng.integers(40, 80)),
        }
        for _ in range(n)
    ]


def test_pointer_summaries_get_their_own_one_class_model_and_move_trust() -> None:
    rng = np.random.default_rng(5)
    store = _store({"s001": "alice"})
    store.add_features(
        None,
        [
            FeatureRecord(f"m{i}", "sess-s001", "acme", "alice", "pointer", m, NOW, NOW)
            for i, m in enumerate(_movements(rng, 800.0, 0.02, 60))
        ],
    )
    artefact, meta = registry.train(registry.from_sessions(store, "acme", "alice"))
    assert meta["pointer"]["genuine_samples"] == 60
    model = detectors.load(artefact)
    assert model.pointer is not None
    session = SessionTrust("s", "acme", "alice", NOW + timedelta(hours=1))
    mine = parse_batch({"pointer": _movements(rng, 800.0, 0.02, 3)}, "acme")
    kept = apply(session, mine, model, Thresholds(), model_version=1)
    assert kept.after.trust > 0.8 and len(kept.genuineness) == 3
    theirs = parse_batch({"pointer": _movements(rng, 2500.0, 0.2, 3)}, "acme")
    fell = apply(session, theirs, model, Thresholds(), model_version=1)
    assert fell.after.state.value != "active"
    assert any(r.startswith("pointer ") for r in fell.after.reasons)
