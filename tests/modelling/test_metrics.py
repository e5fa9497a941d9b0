import numpy as np
import pytest

from creditops.modelling.metrics import compare_with_champion, evaluate_predictions


def test_report_keeps_the_classification_report_and_adds_scores() -> None:
    labels = np.array([0, 0, 1, 1, 0, 1])
    probability = np.array([0.1, 0.4, 0.35, 0.8, 0.2, 0.9])
    report = evaluate_predictions(labels, probability, threshold=0.5)
    assert {"0", "1", "accuracy", "macro avg", "weighted avg"} <= set(report)
    assert report["roc_auc"] == pytest.approx(8 / 9)
    assert report["brier_score"] == pytest.approx(np.mean((probability - labels) ** 2))
    assert report["confusion_matrix"] == [[3, 0], [1, 2]]
    assert report["rows"] == 6


def test_no_champion_counts_as_better_and_says_so() -> None:
    comparison = compare_with_champion("roc_auc", 0.7, None, None, 0.0)
    assert comparison.better
    assert "no previous model" in comparison.reason


@pytest.mark.parametrize(
    ("metric", "candidate", "champion", "tolerance", "better"),
    [
        ("roc_auc", 0.80, 0.79, 0.0, True),
        ("roc_auc", 0.79, 0.79, 0.0, False),
        ("roc_auc", 0.785, 0.79, 0.01, True),
        ("roc_auc", 0.775, 0.79, 0.01, False),
        ("log_loss", 0.40, 0.42, 0.0, True),
        ("log_loss", 0.43, 0.42, 0.0, False),
    ],
)
def test_better_than_champion_by_metric_and_tolerance(
    metric: str, candidate: float, champion: float, tolerance: float, better: bool
) -> None:
    comparison = compare_with_champion(metric, candidate, champion, "3", tolerance)
    assert comparison.better is better
    assert "champion v3" in comparison.reason
