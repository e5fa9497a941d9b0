"""Reason codes: why the model gave a row the risk it gave, from the model's own feature contributions.

Each learner gives per-row contributions to the log-odds that sum, with its base value, to the row's raw
score (see `Learner.contributions`): exact TreeSHAP for LightGBM and XGBoost, path attributions (Saabas)
for the scikit-learn GBM, points lost against the best bin for the scorecard.

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
    return model.learner.contributions(model.estimator, np.asarray(features, dtype=np.float64), threads)


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
        try:
            return text.format_map({name: _Plain(value) for name, value in values.items()})
        except (ValueError, TypeError, KeyError, IndexError, AttributeError):
            return text  # a contract from before templates were checked: the sentence as written


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
