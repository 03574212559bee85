"""Equal error rates on a CMU-layout set, by Killourhy & Maxion's protocol (DSN 2009, 4.1):
per subject, train on the first half of its repetitions, test on the second half against
the first 5 repetitions of every other subject as impostors; average over subjects.

A one-class detector (scaled Manhattan, IsolationForest) never sees an impostor in
training. The RandomForest needs others' typing to train on, so each subject's others
are split: half lend their later repetitions as negatives, the other half are the test's
impostors, unseen in training, so its EER is not flattered by impostors it has met.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from paygod.contauth import detectors
from paygod.contauth.cmu import FEATURES, Typing

IMPOSTOR_REPS = 5


@dataclass(frozen=True)
class Result:
    detector: str
    eer_mean: float
    eer_std: float
    subjects: int

    def as_dict(self) -> dict[str, object]:
        return {
            "detector": self.detector,
            "eer_mean": round(self.eer_mean, 4),
            "eer_std": round(self.eer_std, 4),
            "subjects": self.subjects,
        }


def _by_subject(rows: Sequence[Typing]) -> dict[str, np.ndarray]:
    grouped: dict[str, list[Typing]] = defaultdict(list)
    for r in rows:
        grouped[r.subject].append(r)
    return {
        s: np.array([r.timings for r in sorted(found, key=lambda r: (r.session, r.rep))])
        for s, found in sorted(grouped.items())
    }


def _one_class_scores(
    detector: str, train: np.ndarray, genuine: np.ndarray, impostors: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    if detector == "scaled_manhattan":
        baseline = detectors.ScaledManhattan(train)
        return baseline.anomaly(genuine), baseline.anomaly(impostors)
    model = detectors.fit(FEATURES, train, None, detectors.ISOLATION_FOREST)
    return -model.estimator.score_samples(genuine), -model.estimator.score_samples(impostors)


def evaluate(rows: Sequence[Typing], detector: str) -> Result:
    """`detector`: scaled_manhattan, isolation_forest or random_forest."""
    data = _by_subject(rows)
    subjects = list(data)
    rates = []
    for k, subject in enumerate(subjects):
        mine = data[subject]
        half = len(mine) // 2
        train, genuine = mine[:half], mine[half:]
        others = subjects[k + 1 :] + subjects[:k]
        if detector == detectors.RANDOM_FOREST:
            seen, unseen = others[: len(others) // 2], others[len(others) // 2 :]
            negatives = np.vstack([data[o][IMPOSTOR_REPS:] for o in seen])
            impostors = np.vstack([data[o][:IMPOSTOR_REPS] for o in unseen])
            model = detectors.fit(FEATURES, train, negatives, detectors.RANDOM_FOREST)
            g = 1.0 - model.genuineness(genuine)
            i = 1.0 - model.genuineness(impostors)
        else:
            impostors = np.vstack([data[o][:IMPOSTOR_REPS] for o in others])
            g, i = _one_class_scores(detector, train, genuine, impostors)
        rates.append(detectors.equal_error_rate(g, i))
    return Result(detector, float(np.mean(rates)), float(np.std(rates)), len(subjects))
