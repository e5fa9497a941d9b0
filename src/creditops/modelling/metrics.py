"""Classification metrics and the better-than-champion rule."""

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


def bootstrap_auc(
    labels: np.ndarray,
    candidate: np.ndarray,
    champion: np.ndarray | None,
    *,
    samples: int,
    confidence: float,
    seed: int,
) -> dict[str, Any]:
    """Percentile bootstrap intervals of the candidate's ROC AUC and of candidate − champion."""
    rng = np.random.default_rng(seed)
    rows = rng.integers(0, len(labels), size=(samples, len(labels)))
    drawn = labels[rows]
    tail = (1 - confidence) / 2 * 100
    candidate_auc = auc_by_row(drawn, candidate[rows])
    result = {"candidate": _interval(candidate_auc, tail)}
    if champion is not None:
        champion_auc = auc_by_row(drawn, champion[rows])
        result["champion"] = _interval(champion_auc, tail)
        result["difference"] = _interval(candidate_auc - champion_auc, tail)
    return result


def _interval(values: np.ndarray, tail: float) -> dict[str, float]:
    values = values[np.isfinite(values)]
    low, high = np.percentile(values, [tail, 100 - tail])
    return {"mean": float(values.mean()), "low": float(low), "high": float(high)}
