import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import average_precision_score, log_loss, roc_auc_score

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


@pytest.mark.parametrize(
    ("metric", "candidate", "champion", "tolerance", "better"),
    [
        ("roc_auc", 0.75, 0.75, 0.0, False),  # equal is not better without a tolerance
        ("roc_auc", 0.7501, 0.75, 0.0, True),
        ("roc_auc", 0.7401, 0.75, 0.01, True),  # just inside the tolerance
        ("roc_auc", 0.7399, 0.75, 0.01, False),  # just outside
        ("brier_score", 0.1499, 0.15, 0.0, True),  # lower is better
        ("brier_score", 0.1501, 0.15, 0.0, False),
        ("brier_score", 0.1599, 0.15, 0.01, True),
        ("brier_score", 0.1601, 0.15, 0.01, False),
        ("accuracy", 0.81, 0.80, 0.0, True),  # higher is better
        ("f1", 0.59, 0.60, 0.0, False),
        ("pr_auc", 0.61, 0.60, 0.0, True),
    ],
)
def test_the_comparison_at_the_tolerance_edge_for_each_direction(
    metric: str, candidate: float, champion: float, tolerance: float, better: bool
) -> None:
    assert compare_with_champion(metric, candidate, champion, "1", tolerance).better is better


def test_worse_by_exactly_the_tolerance_is_not_better() -> None:
    assert not compare_with_champion("roc_auc", 0.5, 0.75, "1", 0.25).better  # exact in binary
    assert compare_with_champion("log_loss", 0.75, 0.5, "1", 0.25).better is False


def test_the_comparison_records_every_figure_and_says_why() -> None:
    from creditops.modelling.metrics import Comparison

    assert compare_with_champion("roc_auc", 0.8, 0.75, "3", 0.0) == Comparison(
        "roc_auc", 0.8, 0.75, "3", 0.0, True, "better than champion v3: roc_auc 0.8000 vs 0.7500 (tolerance 0)"
    )
    assert compare_with_champion("log_loss", 0.5, 0.4, "3", 0.05) == Comparison(
        "log_loss",
        0.5,
        0.4,
        "3",
        0.05,
        False,
        "not better than champion v3: log_loss 0.5000 vs 0.4000 (tolerance 0.05)",
    )
    assert compare_with_champion("f1", 0.6, None, None, 0.02) == Comparison(
        "f1", 0.6, None, None, 0.02, True, "no previous model: the candidate counts as better"
    )


def test_the_report_holds_each_figure() -> None:
    labels = np.array([0, 0, 1, 1, 0, 1, 0, 0])
    probability = np.array([0.1, 0.6, 0.35, 0.8, 0.2, 0.9, 0.05, 0.3])
    report = evaluate_predictions(labels, probability, threshold=0.5)
    predicted = (probability >= 0.5).astype(int)
    assert report["threshold"] == 0.5
    assert report["rows"] == 8
    assert report["default_rate"] == pytest.approx(3 / 8)
    assert report["accuracy"] == pytest.approx(np.mean(predicted == labels))
    assert report["f1"] == pytest.approx(2 * 2 / (2 * 2 + 1 + 1))
    assert report["pr_auc"] == pytest.approx(average_precision_score(labels, probability))
    assert report["log_loss"] == pytest.approx(log_loss(labels, probability))
    assert report["roc_auc"] == pytest.approx(roc_auc_score(labels, probability))
    assert report["confusion_matrix"] == [[4, 1], [1, 2]]
    assert report["1"]["support"] == 3
    one_class = evaluate_predictions(np.zeros(4, dtype=int), np.array([0.1, 0.2, 0.3, 0.9]), threshold=0.5)
    assert np.isnan(one_class["roc_auc"])
    assert one_class["confusion_matrix"] == [[3, 1], [0, 0]]


def test_the_bootstrap_resamples_every_row_and_reports_the_champion_interval() -> None:
    from creditops.modelling.metrics import bootstrap_auc

    labels = np.array([0] * 50 + [1] * 50)
    scores = np.linspace(0, 1, 100)  # ranks every default above every non-default: AUC 1; reversed: AUC 0
    result = bootstrap_auc(labels, scores, scores[::-1].copy(), samples=80, confidence=0.95, seed=1)
    assert set(result) == {"candidate", "champion", "difference"}
    assert result["champion"]["high"] < 0.5 < result["candidate"]["low"]
    alone = bootstrap_auc(labels, scores, None, samples=80, confidence=0.95, seed=1)
    assert set(alone) == {"candidate"}
    assert alone["candidate"] == result["candidate"]


def test_a_probability_at_the_threshold_is_class_one_and_absent_classes_count_zero() -> None:
    report = evaluate_predictions(np.array([0, 1, 0, 0]), np.array([0.5, 0.4, 0.1, 0.2]), threshold=0.5)
    assert report["confusion_matrix"] == [[2, 1], [1, 0]]  # 0.5 is predicted 1
    assert report["1"]["precision"] == 0.0
    assert report["f1"] == 0.0
    assert report["accuracy"] == 0.5
    nothing_predicted = evaluate_predictions(np.array([0, 1]), np.array([0.1, 0.2]), threshold=0.5)
    assert nothing_predicted["1"]["precision"] == 0.0  # zero_division=0, not 1
    assert nothing_predicted["f1"] == 0.0
    one_class = evaluate_predictions(np.zeros(4, dtype=int), np.zeros(4), threshold=0.5)
    assert one_class["confusion_matrix"] == [[4, 0], [0, 0]]  # always 2×2
    assert one_class["1"]["support"] == 0
    assert one_class["f1"] == 0.0  # no positive anywhere: F1 is undefined and counted 0, not 1
    assert one_class["log_loss"] < 1e-6  # certain and right


def test_the_poisson_bootstrap_agrees_with_resampling_rows_within_monte_carlo_error() -> None:
    from creditops.modelling.metrics import auc_by_row, bootstrap_auc

    rng = np.random.default_rng(3)
    labels = (rng.random(1_500) < 0.22).astype(int)
    candidate = np.clip(0.3 * labels + rng.normal(0.3, 0.2, 1_500), 0, 1).round(2)  # ties, as real scores have
    champion = np.clip(0.25 * labels + rng.normal(0.3, 0.2, 1_500), 0, 1).round(2)
    ours = bootstrap_auc(labels, candidate, champion, samples=2_000, confidence=0.95, seed=5)
    rows = np.random.default_rng(5).integers(0, 1_500, size=(2_000, 1_500))  # the classic bootstrap
    classic = auc_by_row(labels[rows], candidate[rows]), auc_by_row(labels[rows], champion[rows])
    for name, values in (("candidate", classic[0]), ("champion", classic[1]), ("difference", classic[0] - classic[1])):
        low, high = np.percentile(values, [2.5, 97.5])
        assert ours[name]["mean"] == pytest.approx(values.mean(), abs=0.002), name
        assert ours[name]["low"] == pytest.approx(low, abs=0.006), name
        assert ours[name]["high"] == pytest.approx(high, abs=0.006), name


def test_the_poisson_table_has_poisson_one_frequencies() -> None:
    from creditops.modelling.metrics import _POISSON_ONE, poisson_weights

    frequencies = np.bincount(_POISSON_ONE) / len(_POISSON_ONE)
    expected = [np.exp(-1) / np.prod(range(1, k + 1)) for k in range(len(frequencies))]
    assert frequencies == pytest.approx(expected, abs=2 / len(_POISSON_ONE))
    assert _POISSON_ONE.dtype == np.uint8
    drawn = np.bincount(poisson_weights(np.random.default_rng(0), 20, 50_000).ravel()) / 1_000_000
    assert drawn[:5] == pytest.approx(expected[:5], abs=0.002)  # every 16-bit index is reachable


def test_the_card_bootstrap_agrees_with_resampling_rows() -> None:
    from creditops.modelling.metrics import auc_by_row, bootstrap_card_metrics

    rng = np.random.default_rng(4)
    labels = (rng.random(1_000) < 0.3).astype(int)
    probability = np.clip(0.3 * labels + rng.normal(0.35, 0.2, 1_000), 0, 1)
    ours = bootstrap_card_metrics(labels, probability, 0.5, samples=2_000, seed=2)
    rows = np.random.default_rng(2).integers(0, 1_000, size=(2_000, 1_000))
    drawn, scores = labels[rows], probability[rows]
    classic = {
        "ROC AUC": auc_by_row(drawn, scores),
        "Brier score": ((scores - drawn) ** 2).mean(axis=1),
        "accuracy": ((scores >= 0.5) == drawn).mean(axis=1),
    }
    for name, values in classic.items():
        assert np.mean(ours[name]) == pytest.approx(values.mean(), abs=0.002), name
        for quantile in (2.5, 97.5):
            assert np.percentile(ours[name], quantile) == pytest.approx(np.percentile(values, quantile), abs=0.006)


def test_batches_change_nothing_but_memory(monkeypatch: pytest.MonkeyPatch) -> None:
    from creditops.modelling import metrics

    rng = np.random.default_rng(8)
    labels = (rng.random(300) < 0.3).astype(int)
    candidate, champion = rng.random(300).round(2), rng.random(300)
    whole = metrics.bootstrap_auc(labels, candidate, champion, samples=50, confidence=0.9, seed=4)
    card = metrics.bootstrap_card_metrics(labels, candidate, 0.5, samples=50, seed=4)
    monkeypatch.setattr(metrics, "BATCH_WEIGHTS", 300 * 7)  # batches of 7 resamples, the last one of 1
    assert metrics.bootstrap_auc(labels, candidate, champion, samples=50, confidence=0.9, seed=4) == whole
    batched = metrics.bootstrap_card_metrics(labels, candidate, 0.5, samples=50, seed=4)
    for name, values in card.items():
        assert np.allclose(batched[name], values, rtol=1e-12, atol=0), name  # a matrix product may round apart


def test_each_card_resample_is_the_weighted_metric_under_its_poisson_weights() -> None:
    from sklearn.metrics import average_precision_score, f1_score, log_loss, roc_auc_score

    from creditops.modelling.metrics import bootstrap_card_metrics, poisson_weights

    rng = np.random.default_rng(9)
    labels = (rng.random(400) < 0.3).astype(int)
    probability = rng.random(400).round(2)  # ties across classes count one half
    probability[0] = 0.5  # exactly at the threshold: class 1
    ours = bootstrap_card_metrics(labels, probability, 0.5, samples=30, seed=6)
    weights = poisson_weights(np.random.default_rng(6), 30, 400)
    for sample, w in enumerate(weights):
        assert ours["ROC AUC"][sample] == pytest.approx(roc_auc_score(labels, probability, sample_weight=w))
        assert ours["Brier score"][sample] == pytest.approx(np.average((probability - labels) ** 2, weights=w))
        assert ours["accuracy"][sample] == pytest.approx(np.average((probability >= 0.5) == labels, weights=w))
        assert ours["PR AUC"][sample] == pytest.approx(average_precision_score(labels, probability, sample_weight=w))
        assert ours["log loss"][sample] == pytest.approx(log_loss(labels, probability, sample_weight=w))
        assert ours["F1"][sample] == pytest.approx(f1_score(labels, probability >= 0.5, sample_weight=w))
        assert ours["default rate"][sample] == pytest.approx(np.average(labels, weights=w))
        assert ours["mean predicted"][sample] == pytest.approx(np.average(probability, weights=w))


def test_card_metrics_at_their_edges() -> None:
    from sklearn.metrics import average_precision_score, log_loss

    from creditops.modelling.metrics import LOG_LOSS_EPSILON, bootstrap_card_metrics

    labels = np.array([1, 0, 1, 0, 1])
    certain = np.array([1.0, 0.0, 0.0, 1.0, 1.0])  # two confident mistakes: the clipped logarithm decides
    ours = bootstrap_card_metrics(labels, certain, 0.5, samples=40, seed=1)
    expected = -2 * np.log(LOG_LOSS_EPSILON) / 5
    weighted = [v for v in ours["log loss"] if np.isfinite(v)]
    assert min(weighted) >= 0
    assert max(weighted) <= 2 * -np.log(LOG_LOSS_EPSILON) + 1e-9
    assert np.median(ours["log loss"]) == pytest.approx(expected, rel=0.6)
    assert log_loss(labels, np.clip(certain, LOG_LOSS_EPSILON, 1 - LOG_LOSS_EPSILON)) == pytest.approx(expected)
    nobody = bootstrap_card_metrics(np.zeros(6, dtype=int), np.linspace(0, 0.4, 6), 0.5, samples=5, seed=2)
    assert (nobody["F1"] == 0).all()  # nothing predicted, nothing present: 0, not NaN
    assert np.isnan(nobody["PR AUC"]).all()  # no positive: no precision-recall curve
    ranked = np.array([0.9, 0.8, 0.8, 0.3, 0.1])
    exact = bootstrap_card_metrics(np.array([1, 1, 0, 0, 1]), ranked, 0.5, samples=3, seed=3)
    from creditops.modelling.metrics import poisson_weights

    for sample, w in enumerate(poisson_weights(np.random.default_rng(3), 3, 5)):
        truth = average_precision_score([1, 1, 0, 0, 1], ranked, sample_weight=w) if w @ [1, 1, 0, 0, 1] else np.nan
        assert exact["PR AUC"][sample] == pytest.approx(truth, nan_ok=True)


@settings(deadline=None)
@given(
    st.lists(st.tuples(st.booleans(), st.sampled_from([0.0, 0.1, 0.5, 0.5, 0.9, 1.0]) | st.floats(0, 1)), max_size=60),
    st.integers(0, 2**32 - 1),
)
def test_slice_aucs_are_scikit_learns_roc_auc_of_each_slice(rows: list[tuple[bool, float]], seed: int) -> None:
    from creditops.modelling.metrics import roc_auc, slice_aucs

    labels = np.array([label for label, _ in rows], dtype=int)
    scores = np.array([score for _, score in rows], dtype=float)
    masks = {"all": np.ones(len(rows), dtype=bool), "some": np.random.default_rng(seed).random(len(rows)) < 0.5}
    found = slice_aucs(labels, scores, masks)
    assert set(found) == set(masks)
    for name, mask in masks.items():
        if len(set(labels[mask])) == 2:
            assert found[name] == pytest.approx(roc_auc_score(labels[mask], scores[mask]), rel=1e-12, abs=1e-15)
        else:
            assert np.isnan(found[name])  # one class (or no row): no AUC
    assert roc_auc(labels, scores) == found["all"] or np.isnan(found["all"])


@settings(deadline=None)
@given(
    st.lists(st.tuples(st.booleans(), st.sampled_from([0.0, 0.2, 0.5, 0.5, 1.0]) | st.floats(0, 1)), max_size=40),
    st.integers(0, 2**32 - 1),
)
def test_each_resample_is_scikit_learns_weighted_auc_and_average_precision(
    rows: list[tuple[bool, float]], seed: int
) -> None:
    from creditops.modelling.metrics import bootstrap_card_metrics, poisson_weights

    labels = np.array([label for label, _ in rows], dtype=int)
    scores = np.array([score for _, score in rows], dtype=float)
    ours = bootstrap_card_metrics(labels, scores, 0.5, samples=4, seed=seed)
    for sample, w in enumerate(poisson_weights(np.random.default_rng(seed), 4, len(rows))):
        kept = w > 0
        if len(set(labels[kept])) == 2:
            expected = roc_auc_score(labels, scores, sample_weight=w)
            assert ours["ROC AUC"][sample] == pytest.approx(expected, rel=1e-12)
        else:
            assert np.isnan(ours["ROC AUC"][sample])
        if w @ labels:
            expected = average_precision_score(labels, scores, sample_weight=w)
            assert ours["PR AUC"][sample] == pytest.approx(expected, rel=1e-12)
        else:
            assert np.isnan(ours["PR AUC"][sample])
