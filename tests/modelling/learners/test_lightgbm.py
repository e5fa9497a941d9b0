"""LightGBM through the learner interface: the same trees as before learners were plug-ins."""

from pathlib import Path

import lightgbm as lgb
import numpy as np
import pandas as pd
import pytest

from creditops.data.contract import Contract, uci
from creditops.gate.checks import directional_check
from creditops.modelling.estimators import TrainedModel

from . import checks

PARAMS = {"n_estimators": 30, "learning_rate": 0.1, "num_leaves": 7}


@pytest.fixture(scope="module")
def model(shop_frame: pd.DataFrame, shop_contract: Contract) -> TrainedModel:
    return checks.fit("lightgbm", shop_frame, shop_contract, PARAMS)


def test_it_fits_and_predicts_probabilities(model: TrainedModel, shop_frame: pd.DataFrame) -> None:
    checks.probabilities_in_unit_interval(model, shop_frame)


def test_it_is_deterministic_for_a_seed(shop_frame: pd.DataFrame, shop_contract: Contract) -> None:
    checks.deterministic("lightgbm", shop_frame, shop_contract, PARAMS)


def test_contributions_sum_to_the_raw_score(model: TrainedModel, shop_frame: pd.DataFrame) -> None:
    parts = checks.contributions_sum_to_the_log_odds(model, shop_frame.head(300))
    raw = model.estimator.predict(model.contract.feature_matrix(shop_frame.head(300)), raw_score=True)
    np.testing.assert_allclose(parts.sum(axis=1), raw, atol=1e-9)


def test_the_file_is_lightgbm_text_and_reads_back_the_same(
    model: TrainedModel, shop_frame: pd.DataFrame, tmp_path: Path
) -> None:
    assert checks.round_trip(model, shop_frame, tmp_path).startswith(b"tree\n")


def test_text_categories_split_as_categories_and_directions_hold(model: TrainedModel, shop_frame: pd.DataFrame) -> None:
    dumped = str(model.estimator.model_to_string())
    assert "cat_threshold=" in dumped  # a categorical split on purpose
    checks.monotone(model, shop_frame, "utilisation", 0.2, +1)
    checks.monotone(model, shop_frame, "tenure", 12, -1)
    assert directional_check(shop_frame, model).verdict == "pass"


def test_the_trees_are_those_of_the_historical_settings(small_frame: pd.DataFrame) -> None:
    """The parameters creditops trained LightGBM with before learners were plug-ins, copied here: the same
    trees, so the same figures."""
    contract = uci()
    features, labels = contract.feature_matrix(small_frame), contract.labels(small_frame)
    historical = {
        "objective": "binary",
        "learning_rate": 0.05,
        "num_leaves": 7,
        "min_data_in_leaf": 40,
        "feature_fraction": 0.9,
        "bagging_fraction": 0.9,
        "bagging_freq": 1,
        "lambda_l2": 1.0,
        "seed": 42,
        "deterministic": True,
        "force_row_wise": True,
        "num_threads": 1,
        "verbosity": -1,
    }
    dataset = lgb.Dataset(features, label=labels, feature_name=list(contract.features), free_raw_data=True)
    expected = lgb.train(historical, dataset, num_boost_round=25)
    model = checks.fit("lightgbm", small_frame, contract, {"n_estimators": 25}, seed=42)
    assert model.estimator.model_to_string() == expected.model_to_string()
