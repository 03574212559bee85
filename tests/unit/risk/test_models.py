"""Models: compiled forests agree with scikit-learn, scores explain themselves, the registry
refuses a tampered artefact and scoring then fails closed."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pytest

from paygod.kernel.clock import FixedClock
from paygod.kernel.errors import InvalidInput
from paygod.ledger import LedgerService
from paygod.risk.compiled import CompiledModels, compile_boosting, compile_isolation
from paygod.risk.dataset import DatasetSpec, generate
from paygod.risk.features import FEATURES
from paygod.risk.model import ModelIntegrityError
from paygod.risk.scoring import assess
from paygod.risk.service import RiskService
from paygod.risk.stores.models import MemoryModelStore
from paygod.risk.training import FRAUD_WEIGHT, feature_matrix, fit_models, held_back, train

SPEC = DatasetSpec(customers=80, terminals=160, days=24, seed=7)


@pytest.fixture(scope="module")
def fitted() -> tuple[Any, dict[str, Any]]:
    data = generate(SPEC)
    x = feature_matrix(data)
    split = held_back(data)
    return x[split.test], fit_models(x[split.train], data.fraud[split.train], 7)


def test_frauds_are_weighted_up_yet_the_score_stays_a_probability() -> None:
    """Frauds weigh FRAUD_WEIGHT in the fit; the baseline takes back log(FRAUD_WEIGHT), so
    the mean predicted probability on the training rows stays about the fraud rate (6 % on
    this set: 0.82 of it corrected, 1.56 of it uncorrected)."""
    data = generate(DatasetSpec(customers=300, terminals=600, days=24, seed=7, patterns="handbook"))
    x, split = feature_matrix(data), held_back(data)
    model = fit_models(x[split.train], data.fraud[split.train], 7)["fraud"]
    assert FRAUD_WEIGHT > 1
    rate = float(data.fraud[split.train].mean())
    predicted = float(model.predict_proba(x[split.train])[:, 1].mean())
    assert 0.7 * rate < predicted < 1.3 * rate


def _compiled(models: dict[str, Any]) -> CompiledModels:
    fraud, baseline = compile_boosting(models["fraud"])
    anomaly, normaliser = compile_isolation(models["anomaly"])
    return CompiledModels(FEATURES, fraud, baseline, anomaly, normaliser)


def test_the_generator_is_deterministic_and_has_every_scenario() -> None:
    first, again = generate(SPEC), generate(SPEC)
    assert first.digest() == again.digest()
    assert generate(replace(SPEC, seed=8)).digest() != first.digest()
    assert set(np.unique(first.scenario)) == set(range(8))
    assert (first.amount_minor[first.scenario == 1] > 22_000).all()  # scenario 1: > 220


def test_compiled_forests_agree_with_scikit_learn(fitted: tuple[Any, dict[str, Any]]) -> None:
    x, models = fitted
    compiled = _compiled(models)
    rows = x[:300]
    expected_p = models["fraud"].predict_proba(rows)[:, 1]
    expected_a = -models["anomaly"].score_samples(rows)
    for row, p, a in zip(rows, expected_p, expected_a, strict=True):
        prob, _, _ = compiled.fraud_probability(row)
        assert prob == pytest.approx(p, abs=1e-12)
        assert compiled.anomaly_score(row) == pytest.approx(a, abs=1e-12)


def test_contributions_add_up_to_the_score(fitted: tuple[Any, dict[str, Any]]) -> None:
    x, models = fitted
    compiled = _compiled(models)
    for row in x[:100]:
        prob, bias, logits = compiled.fraud_probability(row)
        assert np.log(prob / (1 - prob)) == pytest.approx(
            np.log(bias / (1 - bias)) + logits.sum(), abs=1e-9
        )
        result = assess(dict(zip(FEATURES, row.tolist(), strict=True)), compiled, 3)
        assert result.model_version == 3
        # Each term is rounded to 4 places; dropped terms are under 0.0005 each.
        assert sum(result.contributions.values()) == pytest.approx(result.score, abs=0.02)


class _Store(MemoryModelStore):
    def tamper(self, version: int) -> None:
        stored = self._rows[version]
        self._rows[version] = replace(stored, artefact=stored.artefact + b"\0")


def test_a_training_set_too_short_is_refused() -> None:
    with pytest.raises(InvalidInput) as caught:
        train(replace(SPEC, days=15))
    assert caught.value.errors[0].pointer == "/days"


def test_a_tampered_artefact_is_refused_and_scoring_fails_closed(tmp_path: Any) -> None:
    from paygod.ledger.stores.memory import MemoryLedgerStore

    clock = FixedClock(datetime(2026, 1, 1, tzinfo=UTC))
    ledger = LedgerService(MemoryLedgerStore(), clock)
    store = _Store()
    risk = RiskService(ledger, store, clock, "default")
    artefact, meta = train(SPEC)
    registered = risk.register(artefact, meta)
    assert registered["version"] == 1 and registered["artefact_digest"].startswith("sha256:")
    assert meta["training_data"]["digest"].startswith("sha256:")
    assert set(meta["metrics"]["fraud"]) >= {"roc_auc", "average_precision", "cp_at_100"}
    features = dict.fromkeys(FEATURES, 0.0)
    assert risk.score(features).band != "unavailable"
    store.tamper(1)
    with pytest.raises(ModelIntegrityError, match="does not match the sealed"):
        risk.load(store.get(1))  # type: ignore[arg-type]
    # The verified copy already loaded keeps serving; a process that loads it now refuses it.
    assert risk.score(features).band != "unavailable"
    restarted = RiskService(ledger, store, clock, "default")
    failed = restarted.score(features)
    assert (failed.score, failed.band, failed.reasons) == (
        None,
        "unavailable",
        ("model_unavailable",),
    )
    assert "does not match the sealed" in str(failed.failure)
