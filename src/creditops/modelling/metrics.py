"""Classification metrics and the better-than-champion rule."""

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

import numpy as np
from scipy.stats import rankdata
from sklearn.metrics import (
    average_precision_score,
    brier_score_loss,
    classification_report,
    confusion_matrix,
    f1_score,
    log_loss,
    roc_auc_score,
)

LOWER_IS_BETTER: Final = frozenset({"log_loss", "brier_score"})
SCALAR_METRICS: Final = ("roc_auc", "pr_auc", "log_loss", "brier_score", "accuracy", "f1")


def evaluate_predictions(labels: np.ndarray, probability: np.ndarray, threshold: float) -> dict[str, Any]:
    """The original classification-report structure plus ROC AUC, PR AUC, log loss and Brier score."""
    predicted = (probability >= threshold).astype(int)
    report: dict[str, Any] = classification_report(labels, predicted, labels=[0, 1], output_dict=True, zero_division=0)
    two_classes = len(np.unique(labels)) == 2
    report.update(
        {
            "roc_auc": float(roc_auc_score(labels, probability)) if two_classes else float("nan"),
            "pr_auc": float(average_precision_score(labels, probability)),
            "log_loss": float(log_loss(labels, probability, labels=[0, 1])),  # sklearn clips to [eps, 1 − eps]
            "brier_score": float(brier_score_loss(labels, probability)),
            "f1": float(f1_score(labels, predicted, zero_division=0)),
            "threshold": threshold,
            "rows": len(labels),
            "default_rate": float(np.mean(labels)),
            "confusion_matrix": confusion_matrix(labels, predicted, labels=[0, 1]).tolist(),
        }
    )
    return report


@dataclass(frozen=True)
class Comparison:
    """Whether a candidate beats the champion on one metric, and why, in words."""

    metric: str
    candidate: float
    champion: float | None
    champion_version: str | None
    tolerance: float
    better: bool
    reason: str


def compare_with_champion(
    metric: str,
    candidate: float,
    champion: float | None,
    champion_version: str | None,
    tolerance: float,
) -> Comparison:
    """Better means: not worse than the champion by `tolerance` or more (0: strictly better)."""
    if champion is None:
        reason = "no previous model: the candidate counts as better"
        return Comparison(metric, candidate, None, None, tolerance, True, reason)
    sign = -1.0 if metric in LOWER_IS_BETTER else 1.0
    gain = sign * (candidate - champion)
    better = gain > -tolerance  # with no tolerance: strictly better; worse by the tolerance exactly: not
    verdict = "better than" if better else "not better than"
    reason = (
        f"{verdict} champion v{champion_version}: {metric} {candidate:.4f} vs {champion:.4f} (tolerance {tolerance:g})"
    )
    return Comparison(metric, candidate, champion, champion_version, tolerance, better, reason)


def auc_by_row(labels: np.ndarray, scores: np.ndarray) -> np.ndarray:
    """ROC AUC of each row of `scores` against the same row of `labels` (Mann-Whitney U, ties halved)."""
    ranks = rankdata(scores, axis=1)
    positives = labels.sum(axis=1)
    negatives = labels.shape[1] - positives
    # A resample with one class has no AUC: NaN, dropped by _interval; only the warning is silenced here.
    with np.errstate(invalid="ignore", divide="ignore"):  # pragma: no mutate
        return np.asarray(((ranks * labels).sum(axis=1) - positives * (positives + 1) / 2) / (positives * negatives))


def slice_aucs(labels: np.ndarray, scores: np.ndarray, masks: Mapping[str, np.ndarray]) -> dict[str, float]:
    """Each mask's exact ROC AUC (ties count one half, as `roc_auc_score`; NaN with one class), from one sort
    of every row: a slice's rows in score order are the whole's order, filtered."""
    scores = np.asarray(scores)
    order = np.argsort(scores, kind="stable")
    positive = np.asarray(labels).astype(bool)
    found = {}
    for name, mask in masks.items():
        rows = order[np.asarray(mask, dtype=bool)[order]]
        ranked = _Ranked(scores[rows], positive[rows], weighed_sorted=True)
        found[name] = float(ranked.weighted_auc(np.ones((1, len(rows)), dtype=np.uint8))[0])
    return found


def roc_auc(labels: np.ndarray, scores: np.ndarray) -> float:
    """The exact ROC AUC of every row (`slice_aucs` of one slice), several times faster than `roc_auc_score`."""
    return slice_aucs(labels, scores, {"all": np.ones(len(scores), dtype=bool)})["all"]


BATCH_WEIGHTS: Final = 4_000_000
"""Resample weights held at once (rows × resamples of a batch): memory stays near 100 MB at any size."""


def _poisson_table(size: int = 65_536) -> np.ndarray:  # pragma: no mutate
    """Poisson(1) counts by quantile: a uniform index into it draws a count ~30× faster than rng.poisson, and
    the quantisation (1/65,536 of probability) is far below the bootstrap's own Monte-Carlo error.

    Built once at import, before a mutation test can switch a mutant on: its test checks the frequencies."""
    probabilities = [math.exp(-1) / math.factorial(k) for k in range(20)]  # pragma: no mutate
    cumulative = np.cumsum(probabilities)  # pragma: no mutate
    return np.searchsorted(cumulative, (np.arange(size) + 0.5) / size).astype(np.uint8)  # pragma: no mutate


_POISSON_ONE: Final = _poisson_table()


def poisson_weights(rng: np.random.Generator, resamples: int, rows: int) -> np.ndarray:
    """`resamples` × `rows` Poisson(1) counts (uint8): 16-bit uniform indices into the quantile table, drawn
    three times faster than 64-bit ones."""
    return _POISSON_ONE[rng.integers(0, len(_POISSON_ONE), size=(resamples, rows), dtype=np.uint16)]


def bootstrap_auc(
    labels: np.ndarray,
    candidate: np.ndarray,
    champion: np.ndarray | None,
    *,
    samples: int,
    confidence: float,
    seed: int,
) -> dict[str, Any]:
    """Percentile bootstrap intervals of the candidate's ROC AUC and of candidate − champion.

    A Poisson bootstrap: each resample weighs every row by a Poisson(1) count (the limit of drawing n rows
    with replacement), and the weighted AUC comes from sums over the scores sorted once. Resamples are
    made in batches, so memory does not grow with their number and time grows linearly with the rows.
    Candidate and champion share each resample's weights, so their difference is paired."""
    rng = np.random.default_rng(seed)
    positive = np.asarray(labels).astype(bool)
    first = _Ranked(candidate, positive, weighed_sorted=True)  # a Poisson draw has no row order to keep
    ranked = [first] + ([] if champion is None else [_Ranked(champion, positive, frame=first.sorted_order)])
    aucs = [np.empty(samples) for _ in ranked]
    batch = max(1, BATCH_WEIGHTS // max(1, len(positive)))
    for start in range(0, samples, batch):
        weights = poisson_weights(rng, min(batch, samples - start), len(positive))
        for scores, out in zip(ranked, aucs, strict=True):
            out[start : start + len(weights)] = scores.weighted_auc(weights)
    tail = (1 - confidence) / 2 * 100
    result = {"candidate": _interval(aucs[0], tail)}
    if champion is not None:
        result["champion"] = _interval(aucs[1], tail)
        result["difference"] = _interval(aucs[0] - aucs[1], tail)
    return result


def bootstrap_card_metrics(
    labels: np.ndarray, probability: np.ndarray, threshold: float, *, samples: int, seed: int
) -> dict[str, np.ndarray]:
    """Every metric the model card shows, on each of `samples` Poisson resamples, in bounded memory:
    each is the weighted metric under the resample's weights (as scikit-learn's `sample_weight`)."""
    rng = np.random.default_rng(seed)
    positive = np.asarray(labels).astype(bool)
    ranked = _Ranked(probability, positive)
    clipped = np.clip(probability, LOG_LOSS_EPSILON, 1 - LOG_LOSS_EPSILON)
    per_row = {
        "Brier score": ((probability - positive) ** 2).astype(np.float64),
        "accuracy": ((probability >= threshold) == positive).astype(np.float64),
        "log loss": -np.where(positive, np.log(clipped), np.log1p(-clipped)),
        "default rate": positive.astype(np.float64),
        "mean predicted": np.asarray(probability, dtype=np.float64),
    }
    predicted = probability >= threshold
    counts = np.stack([predicted & positive, predicted & ~positive, ~predicted & positive], axis=1).astype(np.float64)
    names = ("ROC AUC", "PR AUC", *per_row, "F1")
    values = {name: np.empty(samples) for name in names}
    batch = max(1, BATCH_WEIGHTS // max(1, len(positive)))
    for start in range(0, samples, batch):
        weights = poisson_weights(rng, min(batch, samples - start), len(positive))
        done = slice(start, start + len(weights))
        total = weights.sum(axis=1, dtype=np.float64)
        values["ROC AUC"][done] = ranked.weighted_auc(weights)
        values["PR AUC"][done] = ranked.weighted_average_precision(weights)
        with np.errstate(invalid="ignore", divide="ignore"):  # pragma: no mutate
            for name, losses in per_row.items():  # a resample of no row (tiny sets) has none: NaN
                values[name][done] = (weights @ losses) / total
        true_pos, false_pos, false_neg = (weights @ counts).T
        values["F1"][done] = _f1(true_pos, false_pos, false_neg)
    return values


LOG_LOSS_EPSILON = float(np.finfo(np.float64).eps)
"""Probabilities are clipped to [ε, 1 − ε] before the logarithm, as scikit-learn's log_loss does."""


def _f1(true_pos: np.ndarray, false_pos: np.ndarray, false_neg: np.ndarray) -> np.ndarray:
    """2TP / (2TP + FP + FN); 0 where nothing is predicted or present (scikit-learn's zero_division=0).
    The counts are sums of whole-number weights: a denominator is 0 (and then so is TP) or at least 1."""
    return np.asarray(2 * true_pos / np.maximum(2 * true_pos + false_pos + false_neg, 1.0))


class _Ranked:
    """One model's scores sorted once, in groups of equal scores: for each positive, how many rows of each
    class score below it (and how many negatives score at most as high), so any weighting's AUC and average
    precision are read from the two classes' cumulative weights.

    `weights` given to `weighted_auc` are per row: in this model's own sorted order (`weighed_sorted`, so
    they need no gathering), in `frame` order (another `_Ranked`'s), or else in row order."""

    def __init__(
        self, scores: np.ndarray, positive: np.ndarray, frame: np.ndarray | None = None, *, weighed_sorted: bool = False
    ) -> None:
        order = np.argsort(scores, kind="stable")
        ordered = np.asarray(scores)[order]
        in_order = positive[order]
        self.sorted_order = order
        if weighed_sorted:
            columns = np.arange(len(order))
        elif frame is None:
            columns = order
        else:
            position = np.empty(len(frame), dtype=np.int64)
            position[frame] = np.arange(len(frame))
            columns = position[order]
        self._positive_columns = columns[in_order]
        self._negative_columns = columns[~in_order]
        starts = np.concatenate(([0], np.flatnonzero(ordered[1:] != ordered[:-1]) + 1))
        ends = np.append(starts[1:], len(order))
        group = np.repeat(np.arange(len(starts)), np.diff(ends, prepend=0))[in_order]
        negatives_before = np.concatenate(([0], np.cumsum(~in_order)))
        self._negatives_below = negatives_before[starts[group]]
        self._negatives_through = negatives_before[ends[group]]
        self._positives_below = np.concatenate(([0], np.cumsum(in_order)))[starts[group]]

    def weighted_auc(self, weights: np.ndarray) -> np.ndarray:
        """The AUC under each row of `weights` (Mann-Whitney U with ties halved, every pair weighted), exact in
        integers: each positive pairs with the weighted negatives scored below it plus half of those tied with
        it, read from one cumulative sum of the negatives' weights at the counts found when sorting."""
        positives, positives_up_to, negatives_up_to = self._cumulative(weights)
        twice_below = negatives_up_to[:, self._negatives_below] + negatives_up_to[:, self._negatives_through]
        twice_pairs = 2 * positives_up_to[:, -1] * negatives_up_to[:, -1]
        # A resample with one class has no AUC: NaN, dropped by _interval; only the warning is silenced here.
        with np.errstate(invalid="ignore", divide="ignore"):  # pragma: no mutate
            return np.asarray((positives * twice_below).sum(axis=1) / twice_pairs)

    def weighted_average_precision(self, weights: np.ndarray) -> np.ndarray:
        """The average precision under each row of `weights`: each positive's weight times the precision at
        its score (the weighted positives over the weighted rows scored at least as high), over all positives'
        weight (scikit-learn's step-wise PR AUC)."""
        positives, positives_up_to, negatives_up_to = self._cumulative(weights)
        below = positives_up_to[:, self._positives_below]
        found = positives_up_to[:, -1:] - below
        predicted = found + negatives_up_to[:, -1:] - negatives_up_to[:, self._negatives_below]
        precision = found / np.maximum(predicted, 1)  # whole-number weights: no rows above means none found
        # A resample with no positive has no precision-recall curve: NaN, dropped by _interval.
        with np.errstate(invalid="ignore", divide="ignore"):  # pragma: no mutate
            return np.asarray(np.einsum("ij,ij->i", positives, precision) / positives_up_to[:, -1])

    def _cumulative(self, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The positives' weights in score order, and each class's cumulative weights (from 0, in integers)."""
        positives = np.take(weights, self._positive_columns, axis=1)
        return positives, _from_zero(positives), _from_zero(np.take(weights, self._negative_columns, axis=1))


def _from_zero(weights: np.ndarray) -> np.ndarray:
    """Cumulative sums along each row, starting at 0: element k is the sum of the first k weights."""
    summed = np.zeros((len(weights), weights.shape[1] + 1), dtype=np.int64)
    np.cumsum(weights, axis=1, dtype=np.int64, out=summed[:, 1:])
    return summed


def _interval(values: np.ndarray, tail: float) -> dict[str, float]:
    values = values[np.isfinite(values)]
    low, high = np.percentile(values, [tail, 100 - tail])
    return {"mean": float(values.mean()), "low": float(low), "high": float(high)}
