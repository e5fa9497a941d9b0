"""Outcomes joined to logged predictions by ID, and the production model judged on them."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import brier_score_loss, roc_auc_score

from creditops.data.contract import uci
from creditops.data.schema import ID_COLUMN, LABEL, OBSERVED_ON
from creditops.errors import CreditopsError, TooLittleEvidenceError
from creditops.monitoring.performance import calibration, id_key, join, judge, read_outcomes


def _outcomes(ids: list[object], labels: list[int], dates: list[str] | None = None) -> pd.DataFrame:
    frame = pd.DataFrame({ID_COLUMN: ids, LABEL: labels})
    if dates is not None:
        frame[OBSERVED_ON] = dates
    return read_outcomes(frame, "outcomes.csv", uci())


def _logged(id_: object, probability: float, t: float = 1.0, version: str = "1") -> dict[str, object]:
    return {"id": id_, "probability": probability, "t": t, "model_version": version}


def test_each_outcome_meets_the_latest_prediction_of_its_id() -> None:
    outcomes = _outcomes([1, 2, 3, 4], [1, 0, 1, 0], ["2026-05-01", "2026-06-30", "2026-06-01", "2026-05-15"])
    logged = [_logged(1, 0.2, t=1), _logged(1, 0.9, t=5), _logged(1, 0.4, t=3), _logged(2, 0.1), _logged(3, 0.7)]
    logged.append(_logged(None, 0.5))  # a request that carried no IDs
    joined = join(outcomes, logged)
    assert joined.ids == [1, 2, 3]
    assert joined.labels.tolist() == [1, 0, 1]
    assert joined.probability.tolist() == [0.9, 0.1, 0.7]
    assert (joined.outcomes, joined.unmatched, joined.model_version) == (4, 1, "1")
    assert (joined.observed_from, joined.observed_to) == ("2026-05-01", "2026-06-30")


def test_the_version_that_made_most_predictions_is_judged_and_the_others_counted() -> None:
    outcomes = _outcomes([1, 2, 3, 4], [1, 0, 1, 0])
    logged = [_logged(1, 0.9, version="2"), _logged(2, 0.1, version="2"), _logged(3, 0.7, version="1")]
    joined = join(outcomes, logged)
    assert (joined.model_version, joined.ids, joined.other_versions) == ("2", [1, 2], {"1": 1})
    assert joined.observed_from == ""  # no observation dates given


def test_ids_match_whatever_their_spelling() -> None:
    assert id_key(17) == id_key(17.0) == id_key("17") == id_key(np.int64(17)) == id_key(" 17 ") == "17"
    assert id_key("A-9") == "A-9"
    assert id_key(17.5) == "17.5"
    outcomes = _outcomes(["17", "A-9"], [1, 0])
    assert join(outcomes, [_logged(17.0, 0.8), _logged("A-9", 0.3)]).probability.tolist() == [0.8, 0.3]


def test_no_prediction_with_an_id_is_too_little_evidence() -> None:
    with pytest.raises(TooLittleEvidenceError, match=r"none of the 2 outcomes has a logged prediction with its ID"):
        join(_outcomes([1, 2], [1, 0]), [_logged(None, 0.5), _logged(9, 0.5)])


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        (pd.DataFrame({ID_COLUMN: [1]}), "outcomes.csv lacks the column(s) 'default payment next month'"),
        (pd.DataFrame({LABEL: [1]}), "lacks the column(s) 'ID'"),
        (pd.DataFrame({ID_COLUMN: [], LABEL: []}), "outcomes.csv has no outcome rows"),
        (pd.DataFrame({ID_COLUMN: [1, 2], LABEL: [0, 2]}), "row 2: default payment next month is '2'; outcomes are 0"),
        (pd.DataFrame({ID_COLUMN: [1, 2], LABEL: [0, "yes"]}), "row 2: default payment next month is 'yes'"),
        (pd.DataFrame({ID_COLUMN: [1, None], LABEL: [0, 1]}), "row 2: the ID is empty"),
        (pd.DataFrame({ID_COLUMN: [5, 6, 5.0], LABEL: [0, 1, 1]}), "row 3: ID '5.0' appears twice"),
        (
            pd.DataFrame({ID_COLUMN: [1, 2], LABEL: [0, 1], OBSERVED_ON: ["2026-01-01", "soon"]}),
            "row 2: observation_date 'soon' is not a date like 2026-11-30",
        ),
    ],
    ids=["no-label", "no-id", "empty", "label-2", "label-text", "empty-id", "repeated-id", "bad-date"],
)
def test_a_bad_outcomes_table_is_named_row_and_column(frame: pd.DataFrame, message: str) -> None:
    with pytest.raises(CreditopsError, match=message.replace("(", r"\(").replace(")", r"\)")):
        read_outcomes(frame, "outcomes.csv", uci())


def test_the_figures_are_the_metrics_with_intervals_around_them() -> None:
    rng = np.random.default_rng(3)
    probability = rng.random(2_000)
    labels = (rng.random(2_000) < probability).astype(int)
    report = judge(labels, probability, {"roc_auc": 0.8, "default_rate": 0.3}, min_auc=0.7, min_rows=200)
    auc, brier, rate, predicted = report.figures
    assert auc.name == "ROC AUC"
    assert auc.value == pytest.approx(roc_auc_score(labels, probability))
    assert brier.value == pytest.approx(brier_score_loss(labels, probability))
    assert rate.value == pytest.approx(labels.mean())
    assert predicted.value == pytest.approx(probability.mean())
    for figure in report.figures:
        assert figure.low < figure.value < figure.high
        assert figure.high - figure.low < 0.1
    assert (auc.at_test, brier.at_test, rate.at_test, predicted.at_test) == (0.8, None, 0.3, None)
    assert report.rows == 2_000
    assert not report.degraded
    assert "ROC AUC 0.8" in report.summary()
    assert "at or above the minimum 0.7" in report.summary()


def test_below_the_minimum_auc_is_degraded_and_at_it_is_not() -> None:
    labels = np.array([0, 1] * 150)
    probability = np.where(labels == 1, 0.6, 0.4)
    probability[:60] = 0.5  # ties: AUC exactly 0.9
    value = roc_auc_score(labels, probability)
    assert not judge(labels, probability, {}, min_auc=value, min_rows=10).degraded
    below = judge(labels, probability, {}, min_auc=value + 1e-9, min_rows=10)
    assert below.degraded
    assert "below the minimum" in below.summary()


def test_too_few_outcomes_or_one_class_is_too_little_evidence() -> None:
    with pytest.raises(TooLittleEvidenceError, match="only 9 outcomes met a logged prediction; need 10"):
        judge(np.array([0, 1] * 4 + [1]), np.full(9, 0.5), {}, min_auc=0.7, min_rows=10)
    with pytest.raises(TooLittleEvidenceError, match="all 20 joined outcomes are 0: ROC AUC needs both classes"):
        judge(np.zeros(20, dtype=int), np.full(20, 0.5), {}, min_auc=0.7, min_rows=10)


def test_calibration_is_ten_equal_groups_by_predicted_probability() -> None:
    probability = np.arange(100) / 100
    labels = (np.arange(100) >= 50).astype(int)
    bins = calibration(labels, probability)
    assert len(bins) == 10
    assert [rows for *_, rows in bins] == [10] * 10
    assert bins[0] == pytest.approx((0.045, 0.0, 10))
    assert bins[-1] == pytest.approx((0.945, 1.0, 10))
    assert [len(calibration(labels[:n], probability[:n])) for n in (3, 10)] == [3, 10]


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(1, 30), st.floats(0, 1), st.integers(0, 1000)),
        min_size=1,
        max_size=80,
    ),
    st.sets(st.integers(1, 40), min_size=1, max_size=40),
)
def test_the_join_keeps_the_latest_prediction_of_each_id(predictions: list, outcome_ids: set[int]) -> None:
    logged = [_logged(id_, p, t=float(t)) for id_, p, t in predictions]
    latest: dict[int, tuple[float, float]] = {}
    for id_, p, t in predictions:
        if id_ not in latest or t >= latest[id_][0]:
            latest[id_] = (t, p)
    ordered = sorted(outcome_ids)
    outcomes = _outcomes(ordered, [id_ % 2 for id_ in ordered])
    if not set(latest) & outcome_ids:
        with pytest.raises(TooLittleEvidenceError):
            join(outcomes, logged)
        return
    joined = join(outcomes, logged)
    assert joined.ids == [id_ for id_ in ordered if id_ in latest]
    assert joined.probability.tolist() == [latest[id_][1] for id_ in joined.ids]
    assert joined.unmatched == len(outcome_ids) - len(joined.ids)
