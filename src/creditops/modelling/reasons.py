"""Reason codes: why the model gave a row the risk it gave, from the model's own feature contributions.

LightGBM's `pred_contrib` gives exact TreeSHAP contributions to the log-odds (they sum, with the base
value, to the raw score). The scikit-learn GBM has no TreeSHAP of its own: its contributions are the
path attributions of each tree (Saabas; `treeinterpreter`'s method): every split a row passes credits
its feature with the change in the node's value, so they too sum exactly to the raw score, though
unlike SHAP they are not averaged over feature orders.

Related features are summed in the groups of `reason_codes.json` (one versioned
table), and the groups that raised the risk most are the reasons, each as a code and a sentence a loan
officer can read. Groups marked not permissible (sex, marital status, age) are never given as a reason.
"""

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Final

import numpy as np

from creditops.data.schema import FEATURES
from creditops.errors import CreditopsError
from creditops.modelling.estimators import TrainedModel

TABLE: Final = Path(__file__).with_name("reason_codes.json")


@dataclass(frozen=True)
class ReasonGroup:
    code: str
    features: tuple[str, ...]
    permissible: bool
    text: str


@dataclass(frozen=True)
class Reason:
    """One reason for one row: its code, its sentence and how much it raised the log-odds."""

    code: str
    text: str
    contribution: float


@lru_cache(maxsize=1)
def reason_table() -> tuple[str, tuple[ReasonGroup, ...]]:
    """The table's version and its groups, read once."""
    raw: dict[str, Any] = json.loads(TABLE.read_text(encoding="utf-8"))
    groups = tuple(
        ReasonGroup(item["code"], tuple(item["features"]), bool(item["permissible"]), item["text"])
        for item in raw["groups"]
    )
    return str(raw["version"]), groups


def contributions(model: TrainedModel, features: np.ndarray, *, threads: int = 1) -> np.ndarray:
    """Per row, each feature's contribution to the log-odds, then the base value (n × 24)."""
    values = np.asarray(features, dtype=np.float64)
    if model.algorithm == "lightgbm":
        return np.asarray(model.estimator.predict(values, pred_contrib=True, num_threads=threads), dtype=np.float64)
    if model.algorithm == "sklearn_gbm":
        return _path_contributions(model.estimator, values)
    raise CreditopsError(f"reason codes need a LightGBM or scikit-learn GBM model; this one is {model.algorithm}")


def _path_contributions(estimator: Any, values: np.ndarray) -> np.ndarray:
    """Saabas path attributions of a binary GradientBoostingClassifier, with its base value last.

    One sparse product per tree: the rows' decision paths times each node's change in value, placed
    in the column of the feature its parent split on."""
    from scipy import sparse

    rate = float(estimator.learning_rate)
    prior = float(estimator.init_.predict_proba(values[:1])[0, 1]) if len(values) else 0.5
    base = np.log(prior / (1 - prior))
    out = np.zeros((len(values), len(FEATURES) + 1))
    for tree in (item.tree_ for item in estimator.estimators_[:, 0]):
        node_value = tree.value[:, 0, 0]
        parent = np.full(tree.node_count, -1)
        for children in (tree.children_left, tree.children_right):
            inner = np.flatnonzero(children >= 0)
            parent[children[inner]] = inner
        below_root = np.flatnonzero(parent >= 0)
        change = sparse.csr_matrix(
            (
                node_value[below_root] - node_value[parent[below_root]],
                (below_root, tree.feature[parent[below_root]]),
            ),
            shape=(tree.node_count, len(FEATURES)),
        )
        out[:, :-1] += rate * (tree.decision_path(values.astype(np.float32)) @ change).toarray()
        base += rate * node_value[0]
    out[:, -1] = base
    return out


def top_reasons(contributions_: np.ndarray, features: np.ndarray, k: int) -> list[list[Reason]]:
    """Per row, up to `k` permissible groups whose summed contribution raised the risk, largest first."""
    if k < 1:
        raise CreditopsError(f"ask for at least one reason, not {k}")
    _, groups = reason_table()
    allowed = [group for group in groups if group.permissible]
    positions = [[FEATURES.index(name) for name in group.features] for group in allowed]
    grouped = np.column_stack([contributions_[:, index].sum(axis=1) for index in positions])
    named = [dict(zip(FEATURES, row, strict=True)) for row in features] if len(features) else []
    reasons = []
    for row, sums in enumerate(grouped):
        order = [int(i) for i in np.argsort(-sums) if sums[i] > 0][:k]
        reasons.append([Reason(allowed[i].code, allowed[i].text.format(**named[row]), float(sums[i])) for i in order])
    return reasons


def mean_absolute_by_group(contributions_: np.ndarray) -> dict[str, float]:
    """The model's global view: mean |contribution| of each reason group (all groups, permissible or not)."""
    _, groups = reason_table()
    return {
        group.code: float(np.abs(contributions_[:, [FEATURES.index(n) for n in group.features]].sum(axis=1)).mean())
        for group in groups
    }
