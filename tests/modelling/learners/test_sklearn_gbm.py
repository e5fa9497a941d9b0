"""The original scikit-learn GBM through the learner interface: the same trees as before."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.ensemble import GradientBoostingClassifier

from creditops.data.contract import Contract, uci
from creditops.gate.checks import directional_check
from creditops.modelling.estimators import TrainedModel

from . import checks

PARAMS = {"n_estimators": 15, "learning_rate": 0.1, "max_depth": 3}


@pytest.fixture(scope="module")
def model(shop_frame: pd.DataFrame, shop_contract: Contract) -> TrainedModel:
    return checks.fit("sklearn_gbm", shop_frame.fillna(0), shop_contract, PARAMS)


def test_it_fits_and_predicts_probabilities(model: TrainedModel, shop_frame: pd.DataFrame) -> None:
    checks.probabilities_in_unit_interval(model, shop_frame.fillna(0))


def test_it_is_deterministic_for_a_seed(shop_frame: pd.DataFrame, shop_contract: Contract) -> None:
    checks.deterministic("sklearn_gbm", shop_frame.fillna(0), shop_contract, PARAMS)


def test_path_attributions_sum_to_the_raw_score(model: TrainedModel, shop_frame: pd.DataFrame) -> None:
    rows = shop_frame.fillna(0).head(300)
    parts = checks.contributions_sum_to_the_log_odds(model, rows)
    raw = model.estimator.decision_function(model.contract.feature_matrix(rows))
    np.testing.assert_allclose(parts.sum(axis=1), raw, atol=1e-9)


def test_the_file_is_a_skops_archive_and_reads_back_the_same(
    model: TrainedModel, shop_frame: pd.DataFrame, tmp_path: Path
) -> None:
    assert checks.round_trip(model, shop_frame.fillna(0), tmp_path).startswith(b"PK")


def test_the_trees_are_those_of_the_historical_settings(small_frame: pd.DataFrame) -> None:
    contract = uci()
    features, labels = contract.feature_matrix(small_frame), contract.labels(small_frame)
    expected = GradientBoostingClassifier(n_estimators=10, learning_rate=0.05, max_depth=3, random_state=42)
    expected.fit(features, labels)
    model = checks.fit("sklearn_gbm", small_frame, contract, {"n_estimators": 10}, seed=42)
    np.testing.assert_array_equal(model.predict_proba(features), expected.predict_proba(features)[:, 1])
    for ours, theirs in zip(model.estimator.estimators_[:, 0], expected.estimators_[:, 0], strict=True):
        np.testing.assert_array_equal(ours.tree_.threshold, theirs.tree_.threshold)


def test_the_gates_directional_check_catches_that_it_ignores_declared_directions(
    model: TrainedModel, shop_frame: pd.DataFrame
) -> None:
    check = directional_check(shop_frame.fillna(0), model)
    assert check.verdict == "fail"
    assert "moved the wrong way" in check.detail
