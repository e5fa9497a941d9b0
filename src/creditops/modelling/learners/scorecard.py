"""A points scorecard, the form credit-risk validators review: each feature cut into bins (optbinning's optimal
binning, whose default rates follow the contract's monotone direction where it declares one), each bin's
weight of evidence (WoE) into a logistic regression, and the result turned into points.

The points table is the model. It is stored as JSON (per characteristic its bins and their points, the base
points and the scaling: points to double the odds, and the odds at a base score) and every score is summed
from it; nothing is unpickled and nothing from the fit is kept. A row's score is the base points plus the
points of its bin in each characteristic; its log-odds of default are (offset − score) / factor, where
factor = PDO / ln 2 and offset = base score − factor · ln(base odds).

Reasons are the points a row lost in each characteristic against that characteristic's best bin, in log-odds
(points / factor): with the base value (the log-odds of a row in every best bin) they sum to the row's
log-odds. A characteristic whose regression weight would reverse its bins' order of risk is left out and
the regression fitted again, as validators expect: a bin riskier in the data never earns more points.
"""

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from creditops.config.validation import describe
from creditops.data.contract import Contract
from creditops.errors import CreditopsError
from creditops.modelling.learners.base import Learner, LearnerParams

FORMAT: Final = "creditops-scorecard/1"
_TRENDS: Final = {"increasing": "ascending", "decreasing": "descending", None: "auto"}
"""optbinning's trend of the default rate for each contract direction."""


class ScorecardParams(LearnerParams):
    max_bins: int = Field(6, ge=2, le=20, description="Most bins per characteristic")
    min_bin_share: float = Field(0.05, gt=0, le=0.5, description="Least share of the training rows in a bin")
    regularisation: float = Field(1.0, gt=0, description="Inverse L2 strength (C) of the logistic regression")
    pdo: float = Field(20.0, gt=0, description="Points to double the odds of good to bad")
    base_score: float = Field(600.0, description="The score at which the odds of good to bad are base_odds")
    base_odds: float = Field(50.0, gt=0, description="Odds of good to bad at base_score")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Scaling(_Strict):
    pdo: float = Field(gt=0, description="Points to double the odds of good to bad")
    score: float = Field(description="The score at which the odds of good to bad are `odds`")
    odds: float = Field(gt=0, description="Odds of good to bad at `score`")

    @property
    def factor(self) -> float:
        return self.pdo / math.log(2)

    @property
    def offset(self) -> float:
        return self.score - self.factor * math.log(self.odds)


class Bin(_Strict):
    """A range [low, high) of a number, or a set of text categories, and its points."""

    low: float | None = None
    high: float | None = None
    categories: list[str] | None = None
    points: float


class Characteristic(_Strict):
    feature: str
    bins: list[Bin] = Field(min_length=1)
    missing: float = Field(description="Points of a missing value or of a code no bin holds")

    @model_validator(mode="after")
    def _whole(self) -> "Characteristic":
        texts = [item.categories is not None for item in self.bins]
        if any(texts):
            listed = [value for item in self.bins for value in item.categories or ()]
            if not all(texts) or any(item.low is not None or item.high is not None for item in self.bins):
                raise ValueError(f"{self.feature}: bins are either ranges or category sets, not both")
            if len(set(listed)) != len(listed):
                raise ValueError(f"{self.feature}: a category is in two bins")
            return self
        lows, highs = [item.low for item in self.bins], [item.high for item in self.bins]
        if lows[0] is not None or highs[-1] is not None or None in highs[:-1]:
            raise ValueError(f"{self.feature}: the bins must run from -inf to +inf")
        cuts = [high for high in highs[:-1] if high is not None]
        if lows[1:] != cuts or cuts != sorted(set(cuts)):
            raise ValueError(f"{self.feature}: each bin must start where the one before ends, in rising order")
        return self


class PointsTable(_Strict):
    """The scorecard as validators read it and as it scores."""

    format: Literal["creditops-scorecard/1"]
    features: list[str] = Field(min_length=1, description="The model's inputs, in order")
    scaling: Scaling
    base_points: float
    characteristics: list[Characteristic]

    @model_validator(mode="after")
    def _known(self) -> "PointsTable":
        named = [item.feature for item in self.characteristics]
        if len(set(named)) != len(named):
            raise ValueError("a characteristic is listed twice")
        for name in sorted(set(named) - set(self.features)):
            raise ValueError(f"characteristic {name!r} is not one of the features")
        return self


@dataclass(frozen=True)
class ScoringTable:
    """A points table ready to score: per characteristic its matrix column, its bins' inner edges (None for
    text categories), the points of each bin (of each code, for text categories) and of a missing value."""

    table: PointsTable
    columns: tuple[int, ...]
    edges: tuple[np.ndarray | None, ...]
    points: tuple[np.ndarray, ...]
    missing: np.ndarray
    best: np.ndarray

    def row_points(self, matrix: np.ndarray) -> np.ndarray:
        """Each row's points in each characteristic (n × characteristics)."""
        out = np.empty((len(matrix), len(self.columns)))
        for position, (column, edges, points) in enumerate(zip(self.columns, self.edges, self.points, strict=True)):
            values = matrix[:, column]
            if edges is None:
                known = np.isfinite(values) & (values >= 0) & (values < len(points)) & (values == np.floor(values))
                taken = points[np.where(known, values, 0).astype(np.intp)]
            else:
                known = ~np.isnan(values)
                taken = points[np.searchsorted(edges, values, side="right")]
            out[:, position] = np.where(known, taken, self.missing[position])
        return out

    def log_odds(self, matrix: np.ndarray) -> np.ndarray:
        score = self.table.base_points + self.row_points(matrix).sum(axis=1)
        return np.asarray((self.table.scaling.offset - score) / self.table.scaling.factor)


class Scorecard(Learner):
    name = "scorecard"
    Params = ScorecardParams
    explanation = "points lost against each characteristic's best bin"
    requirements = ("numpy",)
    file_name = "scorecard.json"

    def fit(
        self, features: np.ndarray, labels: np.ndarray, contract: Contract, params: ScorecardParams, seed: int
    ) -> ScoringTable:
        """Binning and regression are deterministic: the seed changes nothing."""
        return compiled(fitted(features, labels, contract, params).table, contract)

    def predict_proba(self, estimator: ScoringTable, matrix: np.ndarray, threads: int) -> np.ndarray:
        return np.asarray(1.0 / (1.0 + np.exp(-estimator.log_odds(matrix))))

    def contributions(self, estimator: ScoringTable, matrix: np.ndarray, threads: int) -> np.ndarray:
        factor = estimator.table.scaling.factor
        out = np.zeros((len(matrix), len(estimator.table.features) + 1))
        out[:, list(estimator.columns)] = (estimator.best - estimator.row_points(matrix)) / factor
        best_score = estimator.table.base_points + estimator.best.sum()
        out[:, -1] = (estimator.table.scaling.offset - best_score) / factor
        return out

    def save(self, estimator: ScoringTable, path: Path) -> None:
        # Without the unset fields, a bin reads {"low", "high", "points"} or {"categories", "points"}.
        payload = estimator.table.model_dump(mode="json", exclude_none=True)
        path.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")

    def load(self, path: Path, contract: Contract | None) -> ScoringTable:
        if contract is None:
            raise CreditopsError(f"{path}: a scorecard reads its text categories through its data contract")
        try:
            payload = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            cause = " ".join(str(error).split())[:200]
            raise CreditopsError(f"points table {path} cannot be read: {cause}; register or save it again") from None
        try:
            table = PointsTable.model_validate(payload)
        except ValidationError as error:
            raise CreditopsError(f"points table {path} is not a scorecard: {describe(error)}") from None
        try:
            return compiled(table, contract)
        except ValueError as error:
            raise CreditopsError(f"points table {path} does not fit its data contract: {error}") from None

    def reviewed_table(self, estimator: ScoringTable) -> tuple[str, pd.DataFrame]:
        table = estimator.table
        scaling = table.scaling
        rows = [
            {"characteristic": item.feature, "bin": _described(bin_), "points": bin_.points}
            for item in table.characteristics
            for bin_ in item.bins
        ]
        rows += [
            {"characteristic": item.feature, "bin": "missing or unknown", "points": item.missing}
            for item in table.characteristics
        ]
        title = (
            f"Points table: base {table.base_points:.1f} points; {scaling.pdo:g} points double the odds of good"
            f" to bad, which are {scaling.odds:g}:1 at {scaling.score:g} points; a higher score is a lower risk"
        )
        return title, pd.DataFrame(rows).sort_values(["characteristic"], kind="stable")

    def inputs(self, estimator: ScoringTable) -> tuple[list[str] | None, int]:
        return list(estimator.table.features), len(estimator.table.features)

    def recognises(self, head: bytes) -> bool:
        return b'"creditops-scorecard/' in head


def _described(item: Bin) -> str:
    if item.categories is not None:
        return ", ".join(item.categories)
    low = "-inf" if item.low is None else f"{item.low:g}"
    high = "+inf" if item.high is None else f"{item.high:g}"
    return f"[{low}, {high})"


def compiled(table: PointsTable, contract: Contract) -> ScoringTable:
    """`table` ready to score matrices of `contract`'s features; ValueError where they do not fit."""
    if list(table.features) != list(contract.features):
        raise ValueError(f"its features are not the contract's {len(contract.features)} features in order")
    columns: list[int] = []
    edges: list[np.ndarray | None] = []
    points: list[np.ndarray] = []
    missing: list[float] = []
    for item in table.characteristics:
        categories = contract.columns[item.feature].categories if item.feature in contract.text_columns else None
        is_text = item.bins[0].categories is not None
        if is_text != (categories is not None):
            kind = "text categories" if categories is not None else "numbers"
            raise ValueError(f"{item.feature} holds {kind}, which its bins do not describe")
        if categories is not None:
            by_category = {value: bin_.points for bin_ in item.bins for value in bin_.categories or ()}
            if set(by_category) != set(map(str, categories)):
                raise ValueError(f"{item.feature}'s bins do not hold exactly its categories")
            points.append(np.array([by_category[str(value)] for value in categories]))
            edges.append(None)
        else:
            points.append(np.array([bin_.points for bin_ in item.bins]))
            edges.append(np.array([bin_.high for bin_ in item.bins[:-1]], dtype=np.float64))
        columns.append(table.features.index(item.feature))
        missing.append(item.missing)
    best = np.array([max(float(p.max()), m) for p, m in zip(points, missing, strict=True)])
    return ScoringTable(table, tuple(columns), tuple(edges), tuple(points), np.array(missing), best)


@dataclass(frozen=True)
class Fit:
    """What fitting produced: the points table, and the regression with the WoE matrix it was fitted on
    (tests compare the two)."""

    table: PointsTable
    regression: Any
    woe: np.ndarray


@dataclass(frozen=True)
class _Binned:
    name: str
    woe: np.ndarray
    """The WoE of each training row."""
    bins: list[tuple[dict[str, Any], float]]
    """Each bin's edges or categories, and its WoE."""
    missing: float


def fitted(features: np.ndarray, labels: np.ndarray, contract: Contract, params: ScorecardParams) -> Fit:
    """Bin every feature, fit the regression on the bins' WoE, and turn its weights into points."""
    from sklearn.linear_model import LogisticRegression

    binned = [
        found
        for position, name in enumerate(contract.features)
        if (found := _binned(name, features[:, position].astype(np.float64), labels, contract, params)) is not None
    ]
    while True:
        if not binned:
            raise CreditopsError("no feature separates defaults from the rest: the scorecard has nothing to score")
        woe = np.column_stack([item.woe for item in binned])
        regression = LogisticRegression(C=params.regularisation, max_iter=1000).fit(woe, labels)
        weights = regression.coef_[0]
        # A positive weight on WoE (the log of good over bad) would score a bin riskier in the data higher.
        if weights.max() <= 0:
            break
        binned.pop(int(np.argmax(weights)))
    scaling = Scaling(pdo=params.pdo, score=params.base_score, odds=params.base_odds)
    factor = scaling.factor
    characteristics = [
        Characteristic(
            feature=item.name,
            bins=[Bin(**where, points=-factor * weight * woe) for where, woe in item.bins],
            missing=-factor * weight * item.missing,
        )
        for item, weight in zip(binned, weights, strict=True)
    ]
    table = PointsTable(
        format=FORMAT,
        features=list(contract.features),
        scaling=scaling,
        base_points=scaling.offset - factor * float(regression.intercept_[0]),
        characteristics=characteristics,
    )
    return Fit(table, regression, woe)


def _binned(
    name: str, values: np.ndarray, labels: np.ndarray, contract: Contract, params: ScorecardParams
) -> _Binned | None:
    """The optimal binning of one feature with the WoE of each bin and of each training row; None where it
    finds a single bin (the feature tells nothing)."""
    from optbinning import OptimalBinning  # type: ignore[import-untyped]

    column = contract.columns[name]
    categories = column.categories if name in contract.text_columns else None
    binning = OptimalBinning(
        name=name,
        dtype="numerical" if categories is None else "categorical",
        solver="cp",
        monotonic_trend=_TRENDS[column.monotone] if categories is None else "auto",
        max_n_bins=params.max_bins,
        min_bin_size=params.min_bin_share,
        min_bin_n_event=1,
        min_bin_n_nonevent=1,
    )
    missing = np.isnan(values)
    if categories is None:
        binning.fit(values, labels)
        splits = [float(split) for split in binning.splits]
        count = len(splits) + 1
        index = np.searchsorted(np.asarray(splits), values, side="right")
    else:
        texts = np.asarray([str(value) for value in categories], dtype=object)
        coded = np.where(missing, 0, values).astype(np.intp)
        binning.fit(np.where(missing, np.nan, texts[coded]).astype(object), labels)
        groups = [[str(value) for value in group] for group in binning.splits]
        count = len(groups)
        group_of = {value: position for position, group in enumerate(groups) for value in group}
        index = np.array([group_of.get(str(texts[code]), count) for code in coded])
    if count < 2:
        return None
    index[missing] = count + 1  # after the bins and the place of categories never seen
    woe = _woe(index, labels, count + 2)
    row_woe = woe[index]
    bins: list[tuple[dict[str, Any], float]]
    if categories is None:
        edges = zip([None, *splits], [*splits, None], strict=True)
        bins = [({"low": low, "high": high}, float(woe[i])) for i, (low, high) in enumerate(edges)]
    else:
        bins = [({"categories": group}, float(woe[i])) for i, group in enumerate(groups)]
        unseen = [str(value) for value in categories if str(value) not in group_of]
        if unseen:
            bins.append(({"categories": unseen}, 0.0))
    return _Binned(name, row_woe, bins, float(woe[count + 1]))


def _woe(index: np.ndarray, labels: np.ndarray, bins: int) -> np.ndarray:
    """Each bin's weight of evidence, ln(share of the goods / share of the bads), as optbinning defines it
    (0 for a bin without both). Counted here rather than read from optbinning's table, which pandas 3
    warns it will stop building."""
    bad = np.bincount(index, weights=labels, minlength=bins)
    good = np.bincount(index, minlength=bins) - bad
    woe = np.zeros(bins)
    both = (bad > 0) & (good > 0)
    woe[both] = np.log(good[both] / bad[both]) + np.log(bad.sum() / good.sum())
    return woe
