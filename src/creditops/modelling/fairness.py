"""Fairness across the groups of each protected column: who is approved, and whose errors the model makes.

Protected columns (sex, marital status, age) never score; they are kept so that these figures can be
measured on the same rows the model is judged on. A row is approved when its probability of default is
below the decision threshold, so the figures are those of the decisions the model would make, not of its
ranking. Per group: its rows, approval rate, true positive rate (the share of defaulters the model
declines) and false positive rate (the share of good payers it declines). Per column:

- the adverse impact ratio: the lowest group's approval rate over the highest's (the four-fifths rule of
  US employment law, used for credit too: below 0.8 a group is approved markedly less often);
- the equalized odds difference: the larger of the TPR gap and the FPR gap between groups (0: the model
  errs alike on every group, among defaulters and among good payers).

Small groups' rates are noise: a group with fewer than `min_rows` rows, or without both outcomes (its TPR
or FPR undefined), is reported but not judged, left out of the ratio and the difference. Rows whose group
is missing (NA) are left out altogether. Pure functions of in-memory values; fairlearn computes the rates.
"""

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from functools import partial
from typing import Any, Final, Literal

import numpy as np
import pandas as pd
from fairlearn.metrics import (  # type: ignore[import-untyped]
    MetricFrame,
    equalized_odds_difference,
    false_positive_rate,
    selection_rate,
    true_positive_rate,
)

from creditops.data.contract import Contract

TOLERANCE: Final = 1e-9
"""The figures are ratios of counts; float division may land a hair off a limit the counts meet exactly
(0.56 / 0.7 is 0.8000000000000002), so a limit is met within this much."""

Rate = Literal["TPR", "FPR"]


@dataclass(frozen=True)
class GroupRates:
    """One group of a protected column, on the rows measured."""

    group: str
    rows: int
    defaults: int
    approval_rate: float
    true_positive_rate: float | None
    """Share of the group's defaulters the model declines; None when the group has none."""
    false_positive_rate: float | None
    """Share of the group's good payers the model declines; None when the group has none."""
    judged: bool
    """Enough rows and both outcomes: counted in the ratio and the difference."""


@dataclass(frozen=True)
class Gap:
    """Two groups and their values of one figure: the lowest and the highest among the judged groups."""

    low_group: str
    low: float
    high_group: str
    high: float


@dataclass(frozen=True)
class ColumnFairness:
    """Every group of one protected column and the two figures over its judged groups (None when fewer
    than two groups are judged: there is nothing to compare)."""

    column: str
    groups: tuple[GroupRates, ...]
    missing: int
    """Rows whose group is missing (NA): left out."""
    adverse_impact_ratio: float | None
    approval_gap: Gap | None
    """The groups with the lowest and the highest approval rate."""
    equalized_odds_difference: float | None
    odds_rate: Rate | None
    """Which rate has the larger gap, the one the difference is."""
    odds_gap: Gap | None

    @property
    def judged(self) -> bool:
        return self.adverse_impact_ratio is not None

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready (lists, not tuples: the same after a round trip through JSON)."""
        return {**asdict(self), "groups": [asdict(rates) for rates in self.groups]}


@dataclass(frozen=True)
class FairnessReport:
    """The fairness of a model's decisions at `threshold`, per protected column, in the contract's order."""

    threshold: float
    min_group_rows: int
    columns: tuple[ColumnFairness, ...]

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready: the evidence records it, the card shows it."""
        return {
            "threshold": self.threshold,
            "min_group_rows": self.min_group_rows,
            "columns": {column.column: column.as_dict() for column in self.columns},
        }


def protected_groups(contract: Contract, frame: pd.DataFrame) -> dict[str, pd.Series]:
    """Each protected column's group per row (`Contract.groups`), ordered as the contract lists the
    groups (its slices), then any other value in text order; a column absent from `frame` is left out."""
    found: dict[str, pd.Series] = {}
    for name in contract.protected:
        if name not in frame:
            continue
        groups = contract.groups(frame, name)
        named = [str(label) for label in contract.slices.get(name, {})]
        others = sorted({str(value) for value in groups.dropna().unique()} - set(named))
        found[name] = pd.Series(pd.Categorical(groups, categories=[*named, *others]), index=groups.index)
    return found


def fairness_report(
    labels: np.ndarray,
    probability: np.ndarray,
    threshold: float,
    groups: Mapping[str, pd.Series],
    *,
    min_rows: int,
) -> FairnessReport:
    """The fairness of approving the rows whose probability of default is below `threshold`, for each
    protected column's groups (one label per row, NA where unknown; positional, like `labels`)."""
    labels = np.asarray(labels)
    flagged = (np.asarray(probability, dtype=np.float64) >= threshold).astype(np.int64)
    columns = tuple(
        column_fairness(labels, flagged, name, values, min_rows=min_rows) for name, values in groups.items()
    )
    return FairnessReport(float(threshold), int(min_rows), columns)


def column_fairness(
    labels: np.ndarray, flagged: np.ndarray, column: str, groups: pd.Series, *, min_rows: int
) -> ColumnFairness:
    """One protected column: `flagged` is 1 where the model declines (predicts a default), 0 approves.

    The rows are first counted per group, outcome and decision, and fairlearn weighs those counts: the
    same figures (sums of whole numbers are exact), in a time that does not grow with the rows, where
    fairlearn on the rows themselves stacks them one by one (about a minute per million)."""
    labels, flagged = np.asarray(labels), np.asarray(flagged)
    if len(groups) != len(labels) or len(flagged) != len(labels):
        raise ValueError(f"{column}: {len(groups)} groups and {len(flagged)} decisions for {len(labels)} labels")
    if not (np.isin(labels, (0, 1)).all() and np.isin(flagged, (0, 1)).all()):
        raise ValueError(f"{column}: labels and decisions must be 0 or 1")
    codes, found = pd.factorize(groups, use_na_sentinel=True)
    known = codes >= 0
    missing = int((~known).sum())
    counts = np.bincount(
        codes[known] * 4 + labels[known].astype(np.int64) * 2 + flagged[known].astype(np.int64),
        minlength=4 * len(found),
    ).reshape(-1, 4)  # per group: good payers approved, declined; defaulters approved, declined
    names = np.array([str(value) for value in found], dtype=object)
    if not len(names):
        return ColumnFairness(column, (), missing, None, None, None, None, None)
    cells = np.flatnonzero(counts.ravel())
    group, outcome, decision = names[cells // 4], (cells // 2) % 2, cells % 2
    weight = counts.ravel()[cells].astype(np.float64)
    metrics = {
        "approval": partial(selection_rate, pos_label=0),
        "TPR": partial(true_positive_rate, pos_label=1),
        "FPR": partial(false_positive_rate, pos_label=1),
    }
    table = MetricFrame(
        metrics=metrics,
        y_true=outcome,
        y_pred=decision,
        sensitive_features=group,
        sample_params={name: {"sample_weight": weight} for name in metrics},
    ).by_group
    rates = []
    for position in _ordered(list(names), groups):
        name = names[position]
        rows, defaults = int(counts[position].sum()), int(counts[position, 2:].sum())
        rates.append(
            GroupRates(
                group=name,
                rows=rows,
                defaults=defaults,
                approval_rate=float(table.loc[name, "approval"]),
                true_positive_rate=float(table.loc[name, "TPR"]) if defaults else None,
                false_positive_rate=float(table.loc[name, "FPR"]) if rows > defaults else None,
                judged=rows >= min_rows and 0 < defaults < rows,
            )
        )
    judged = [rate for rate in rates if rate.judged]
    if len(judged) < 2:
        return ColumnFairness(column, tuple(rates), missing, None, None, None, None, None)
    approval = _gap(judged, "approval_rate")
    ratio = 1.0 if approval.high == 0 else approval.low / approval.high
    in_judged = np.isin(group, [rate.group for rate in judged])
    difference = float(
        equalized_odds_difference(
            outcome[in_judged],
            decision[in_judged],
            sensitive_features=group[in_judged],
            sample_weight=weight[in_judged],
        )
    )
    true_gap, false_gap = _gap(judged, "true_positive_rate"), _gap(judged, "false_positive_rate")
    widest: Rate = "TPR" if true_gap.high - true_gap.low >= false_gap.high - false_gap.low else "FPR"
    return ColumnFairness(
        column=column,
        groups=tuple(rates),
        missing=missing,
        adverse_impact_ratio=ratio,
        approval_gap=approval,
        equalized_odds_difference=difference,
        odds_rate=widest,
        odds_gap=true_gap if widest == "TPR" else false_gap,
    )


def ratio_meets(ratio: float | None, minimum: float) -> bool | None:
    """Whether an adverse impact ratio reaches the minimum (the minimum itself passes); None: not judged."""
    return None if ratio is None else ratio >= minimum - TOLERANCE


def difference_meets(difference: float | None, maximum: float) -> bool | None:
    """Whether an equalized odds difference stays within the maximum (the maximum itself passes); None: not
    judged."""
    return None if difference is None else difference <= maximum + TOLERANCE


def _ordered(names: list[str], groups: pd.Series) -> list[int]:
    """Positions of `names` in their categorical order (the contract's), else in text order."""
    order = [str(label) for label in groups.cat.categories] if isinstance(groups.dtype, pd.CategoricalDtype) else []
    rank = {name: position for position, name in enumerate(order)}
    return sorted(range(len(names)), key=lambda position: (rank.get(names[position], len(rank)), names[position]))


def _gap(judged: list[GroupRates], field: str) -> Gap:
    values = [(getattr(rate, field), rate.group) for rate in judged]
    low_value, low_group = min(values, key=lambda pair: pair[0])
    high_value, high_group = max(values, key=lambda pair: pair[0])
    return Gap(low_group, float(low_value), high_group, float(high_value))
