"""Reason codes from the model's own contributions: exact, grouped, readable, and never a protected trait."""

import numpy as np
import pandas as pd
import pytest

from creditops.data.contract import uci
from creditops.errors import CreditopsError
from creditops.modelling.estimators import TrainedModel
from creditops.modelling.reasons import contributions, mean_absolute_by_group, top_reasons

FEATURES = uci().features


@pytest.mark.parametrize("fixture", ["small_model", "small_sklearn_model"])
def test_contributions_and_the_base_value_sum_to_the_raw_score(
    fixture: str, small_frame: pd.DataFrame, request: pytest.FixtureRequest
) -> None:
    model: TrainedModel = request.getfixturevalue(fixture)
    rows = uci().feature_matrix(small_frame.sample(80, random_state=3))
    parts = contributions(model, rows)
    assert parts.shape == (80, len(FEATURES) + 1)
    if model.algorithm == "lightgbm":
        raw = model.estimator.predict(rows, raw_score=True)
    else:  # path attributions (Saabas) of the scikit-learn GBM
        raw = model.estimator.decision_function(rows)
    np.testing.assert_allclose(parts.sum(axis=1), raw, atol=1e-6)
    assert np.ptp(parts[:, -1]) == 0  # one base value for every row
    assert np.abs(parts[:, FEATURES.index("PAY_0")]).mean() > 0


def test_the_reasons_are_the_groups_that_raised_the_risk_most(
    small_model: TrainedModel, small_frame: pd.DataFrame
) -> None:
    rows = uci().feature_matrix(small_frame.head(200))
    parts = contributions(small_model, rows)
    reasons = top_reasons(uci(), parts, rows, 3)
    allowed = {group.code: group for group in uci().reasons}
    for row, given in enumerate(reasons):
        assert len(given) <= 3
        assert all(reason.code in allowed for reason in given)
        assert [reason.contribution for reason in given] == sorted((r.contribution for r in given), reverse=True)
        assert all(reason.contribution > 0 for reason in given)
        for reason in given:
            features = [FEATURES.index(name) for name in allowed[reason.code].columns]
            assert reason.contribution == pytest.approx(parts[row, features].sum())


def test_a_declined_applicant_reads_why(small_model: TrainedModel, small_frame: pd.DataFrame) -> None:
    late = small_frame.head(1).assign(PAY_0=3, PAY_2=2, PAY_3=2)
    rows = uci().feature_matrix(late)
    (given,) = top_reasons(uci(), contributions(small_model, rows), rows, 2)
    assert given[0].code == "R01"
    assert given[0].text == "Repayment status in recent months (last month: 3, where 1 or more means months late)"


def test_the_global_view_covers_every_group(small_model: TrainedModel, small_frame: pd.DataFrame) -> None:
    parts = contributions(small_model, uci().feature_matrix(small_frame.head(300)))
    view = mean_absolute_by_group(uci(), parts)
    assert set(view) == {group.code for group in uci().reasons}
    assert view["R01"] > 0


def test_the_uci_groups_cover_every_feature_once_and_no_protected_column() -> None:
    listed = [name for group in uci().reasons for name in group.columns]
    assert sorted(listed) == sorted(FEATURES)
    assert not set(listed) & {"SEX", "MARRIAGE", "AGE"}


def test_a_text_category_reads_as_its_text_even_under_a_number_format(small_model: TrainedModel) -> None:
    from creditops.data.contract import Contract

    contract = Contract.model_validate(
        {
            "name": "shop",
            "label": {"column": "bad", "positive": "yes"},
            "columns": {
                "purpose": {"type": "category", "categories": ["car", "boat"]},
                "amount": {"type": "number", "range": [0, 100]},
                "bad": {"role": "label", "type": "category", "categories": ["no", "yes"]},
            },
            "reasons": [
                {"code": "P1", "columns": ["purpose"], "text": "Purpose {purpose:g}"},
                {"code": "A1", "columns": ["amount"], "text": "Amount {amount:,.0f}"},
            ],
        }
    )
    parts = np.array([[0.5, 0.2, -1.0]])
    (given,) = top_reasons(contract, parts, np.array([[1.0, 42.0]]), 2)
    assert [(reason.code, reason.text) for reason in given] == [("P1", "Purpose boat"), ("A1", "Amount 42")]


def test_the_scikit_learn_gbm_gives_reasons_too(small_sklearn_model: TrainedModel, small_frame: pd.DataFrame) -> None:
    late = uci().feature_matrix(small_frame.head(1).assign(PAY_0=3, PAY_2=2, PAY_3=2))
    (given,) = top_reasons(uci(), contributions(small_sklearn_model, late), late, 1)
    assert given[0].code == "R01"


def test_unknown_learners_and_no_reasons_are_clear_errors(small_model: TrainedModel, small_frame) -> None:
    other = TrainedModel("catboost", small_model.estimator, uci())
    with pytest.raises(CreditopsError, match="unknown learner 'catboost'"):
        contributions(other, uci().feature_matrix(small_frame.head(2)))
    with pytest.raises(CreditopsError, match="at least one reason"):
        top_reasons(uci(), np.zeros((1, 21)), np.zeros((1, 20)), 0)


def test_a_sentence_that_cannot_be_formatted_is_given_as_written() -> None:
    from creditops.modelling.reasons import _sentence

    assert _sentence("Purpose {purpose:g}", {"purpose": "boat"}) == "Purpose boat"
    assert _sentence("Amount {amount} and {}", {"amount": 1.0}) == "Amount {amount} and {}"
