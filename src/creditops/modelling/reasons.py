"""Reason codes: why the model gave a row the risk it gave, from the model's own feature contributions.

LightGBM's `pred_contrib` gives exact TreeSHAP contributions to the log-odds (they sum, with the base
value, to the raw score). The scikit-learn GBM has no TreeSHAP of its own: its contributions are the
path attributions of each tree (Saabas; `treeinterpreter`'s method): every split a row passes credits
its feature with the change in the node's value, so they too sum exactly to the raw score, though
unlike SHAP they are not averaged over feature orders.

Related features are summed in the reason groups of the model's data contract, and the groups that raised
the risk most are the reasons, each as a code and a sentence a loan officer can read. Only features can be
in a group: protected columns (sex, marital status, age) are not model inputs, so they are never a reason.
"""

from dataclasses import dataclass
from typing import Any

import numpy as np

from creditops.data.contract import Contract
from creditops.errors import CreditopsError
from creditops.modelling.estimators import TrainedModel


@dataclass(frozen=True)
class Reason:
    """One reason for one row: its code, its sentence and how much it raised the log-odds."""

    code: str
    text: str
    contribution: float


def contributions(model: TrainedModel, features: np.ndarray, *, threads: int = 1) -> np.ndarray:
    """Per row, each feature's contribution to the log-odds, then the base value (n × features + 1)."""
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
    width = values.shape[1]
    out = np.zeros((len(values), width + 1))
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
            shape=(tree.node_count, width),
        )
        out[:, :-1] += rate * (tree.decision_path(values.astype(np.float32)) @ change).toarray()
        base += rate * node_value[0]
    out[:, -1] = base
    return out


def top_reasons(contract: Contract, contributions_: np.ndarray, features: np.ndarray, k: int) -> list[list[Reason]]:
    """Per row, up to `k` of the contract's reason groups whose summed contribution raised the risk, largest
    first; each sentence shows the row's values as the portfolio writes them."""
    if k < 1:
        raise CreditopsError(f"ask for at least one reason, not {k}")
    groups = contract.reasons
    if not groups:
        raise CreditopsError(f"the data contract {contract.name!r} declares no reason groups: add them under reasons")
    positions = [[contract.features.index(name) for name in group.columns] for group in groups]
    grouped = np.column_stack([contributions_[:, index].sum(axis=1) for index in positions])
    reasons = []
    for row, sums in enumerate(grouped):
        order = [int(i) for i in np.argsort(-sums) if sums[i] > 0][:k]
        named = _row_values(contract, features[row]) if order else {}
        reasons.append([Reason(groups[i].code, _sentence(groups[i].text, named), float(sums[i])) for i in order])
    return reasons


def _row_values(contract: Contract, row: np.ndarray) -> dict[str, Any]:
    return {name: contract.decoded(name, float(value)) for name, value in zip(contract.features, row, strict=True)}


def _sentence(text: str, values: dict[str, Any]) -> str:
    """The group's sentence with the row's values; a format the value does not fit (a text category under
    `{X:g}`) shows the value as it is."""
    try:
        return text.format(**values)
    except (ValueError, TypeError, KeyError, IndexError, AttributeError):
        return text.format_map({name: _Plain(value) for name, value in values.items()})


class _Plain:
    """A value that formats as its text under any format specification."""

    def __init__(self, value: Any) -> None:
        self.value = value

    def __format__(self, spec: str) -> str:
        return str(self.value)


def mean_absolute_by_group(contract: Contract, contributions_: np.ndarray) -> dict[str, float]:
    """The model's global view: mean |contribution| of each of the contract's reason groups."""
    return {
        group.code: float(
            np.abs(contributions_[:, [contract.features.index(n) for n in group.columns]].sum(axis=1)).mean()
        )
        for group in contract.reasons
    }
