"""Trained forests as flat arrays, evaluated for one decision in tens of microseconds.

scikit-learn's `predict_proba` validates its input and dispatches per tree on every call
(milliseconds for one row); a decision has a 2 ms budget. Every tree of a model is laid
out in one set of node arrays, and all trees are walked together, one level per step.
The fraud model also yields Saabas path contributions: each split moves the prediction
from the node's mean to the child's mean, and that move is credited to the split feature,
so the contributions and the bias add up exactly to the model's log-odds ("why 0.83").
Agreement tests hold these against scikit-learn's own predictions.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]


@dataclass(frozen=True)
class Forest:
    """Nodes of every tree, concatenated; children are global node indices."""

    roots: Ints
    feature: Ints
    threshold: Floats
    left: Ints
    right: Ints
    missing_left: npt.NDArray[np.bool_]
    leaf: npt.NDArray[np.bool_]
    value: Floats  # leaf value (fraud: log-odds step; anomaly: path length)
    mean: Floats  # sample-weighted mean of the leaves under each node
    depth: int
    float32: bool  # scikit-learn's trees compare float32(x) <= threshold

    def walk(self, x: Floats) -> tuple[Ints, Floats]:
        """(leaf of each tree, per-feature Saabas contributions) for one row `x`."""
        xs = x.astype(np.float32).astype(np.float64) if self.float32 else x
        at = self.roots.copy()
        contrib = np.zeros(x.shape[0], dtype=np.float64)
        for _ in range(self.depth):
            inner = ~self.leaf[at]
            if not inner.any():
                break
            nodes = at[inner]
            feats = self.feature[nodes]
            vals = xs[feats]
            go_left = np.where(
                np.isnan(vals), self.missing_left[nodes], vals <= self.threshold[nodes]
            )
            nxt = np.where(go_left, self.left[nodes], self.right[nodes])
            contrib += np.bincount(
                feats, weights=self.mean[nxt] - self.mean[nodes], minlength=x.shape[0]
            )
            at[inner] = nxt
        return at, contrib


def _means(
    left: Ints, right: Ints, leaf: npt.NDArray[np.bool_], value: Floats, count: Floats
) -> Floats:
    mean = np.where(leaf, value, 0.0)
    weight = count.astype(np.float64)
    # Children follow parents in scikit-learn's layouts; sweep back to front.
    for i in range(len(leaf) - 1, -1, -1):
        if not leaf[i]:
            lw, rw = weight[left[i]], weight[right[i]]
            total = lw + rw
            mean[i] = (mean[left[i]] * lw + mean[right[i]] * rw) / total if total else 0.0
    return mean


def _depth_of(left: Ints, right: Ints, leaf: npt.NDArray[np.bool_], roots: Ints) -> int:
    depth, frontier = 0, list(roots)
    while frontier:
        frontier = [c for n in frontier if not leaf[n] for c in (left[n], right[n])]
        depth += 1
    return depth


def compile_boosting(model: Any) -> tuple[Forest, float]:
    """A fitted binary HistGradientBoostingClassifier as (forest, baseline log-odds)."""
    parts = [tree[0].nodes for tree in model._predictors]
    if any(bool(p["is_categorical"].any()) for p in parts):
        raise ValueError("categorical splits are not supported")
    offsets = np.cumsum([0] + [len(p) for p in parts[:-1]]).astype(np.int64)
    nodes = np.concatenate(parts)
    shift = np.repeat(offsets, [len(p) for p in parts])
    leaf = nodes["is_leaf"].astype(bool)
    left = np.where(leaf, 0, nodes["left"].astype(np.int64) + shift)
    right = np.where(leaf, 0, nodes["right"].astype(np.int64) + shift)
    value = nodes["value"].astype(np.float64)
    mean = _means(left, right, leaf, value, nodes["count"].astype(np.float64))
    forest = Forest(
        roots=offsets,
        feature=nodes["feature_idx"].astype(np.int64),
        threshold=nodes["num_threshold"].astype(np.float64),
        left=left,
        right=right,
        missing_left=nodes["missing_go_to_left"].astype(bool),
        leaf=leaf,
        value=value,
        mean=mean,
        depth=_depth_of(left, right, leaf, offsets),
        float32=False,
    )
    return forest, float(np.asarray(model._baseline_prediction).ravel()[0])


def compile_isolation(model: Any) -> tuple[Forest, float]:
    """A fitted IsolationForest as (forest of leaf path lengths, normaliser)."""
    if any(
        len(f) != model.n_features_in_ or (np.diff(f) < 0).any() for f in model.estimators_features_
    ):
        raise ValueError("IsolationForest must be fitted with max_features=1.0")
    lefts, rights, feats, thresholds, values, counts = [], [], [], [], [], []
    offsets, offset = [], 0
    for i, est in enumerate(model.estimators_):
        tree = est.tree_
        leaf = tree.children_left == -1
        lefts.append(np.where(leaf, 0, tree.children_left + offset))
        rights.append(np.where(leaf, 0, tree.children_right + offset))
        feats.append(np.where(leaf, 0, tree.feature))
        thresholds.append(tree.threshold)
        values.append(
            model._decision_path_lengths[i] + model._average_path_length_per_tree[i] - 1.0
        )
        counts.append(tree.n_node_samples)
        offsets.append(offset)
        offset += tree.node_count
    left = np.concatenate(lefts).astype(np.int64)
    right = np.concatenate(rights).astype(np.int64)
    leaf = np.concatenate([e.tree_.children_left == -1 for e in model.estimators_])
    value = np.concatenate(values).astype(np.float64)
    roots = np.array(offsets, dtype=np.int64)
    forest = Forest(
        roots=roots,
        feature=np.concatenate(feats).astype(np.int64),
        threshold=np.concatenate(thresholds).astype(np.float64),
        left=left,
        right=right,
        missing_left=np.zeros(len(leaf), dtype=bool),
        leaf=leaf,
        value=value,
        mean=np.zeros(len(leaf)),
        depth=_depth_of(left, right, leaf, roots),
        float32=True,
    )
    n = int(model.max_samples_)
    normaliser = len(model.estimators_) * average_path_length(n)
    return forest, normaliser


def average_path_length(n: int) -> float:
    """c(n) of Liu et al.: the mean path length of an unsuccessful BST search."""
    if n <= 1:
        return 0.0
    if n == 2:
        return 1.0
    return 2.0 * (math.log(n - 1.0) + np.euler_gamma) - 2.0 * (n - 1.0) / n


@dataclass(frozen=True)
class CompiledModels:
    features: tuple[str, ...]
    fraud: Forest
    baseline: float
    anomaly: Forest
    normaliser: float

    def fraud_probability(self, x: Floats) -> tuple[float, float, Floats]:
        """(probability, bias probability, per-feature contributions in log-odds): the bias
        and the contributions add up to the log-odds of the probability."""
        leaves, contrib = self.fraud.walk(x)
        raw = self.baseline + float(self.fraud.value[leaves].sum())
        bias = self.baseline + float(self.fraud.mean[self.fraud.roots].sum())
        return _sigmoid(raw), _sigmoid(bias), contrib

    def anomaly_score(self, x: Floats) -> float:
        """Liu et al.'s s(x) = 2^(-E[h(x)]/c(n)): about 0.5 ordinary, towards 1 anomalous."""
        leaves, _ = self.anomaly.walk(x)
        return float(2.0 ** (-float(self.anomaly.value[leaves].sum()) / self.normaliser))


def _sigmoid(raw: float) -> float:
    return 1.0 / (1.0 + math.exp(-raw)) if raw >= 0 else math.exp(raw) / (1.0 + math.exp(raw))
