"""The one-row fast path gives exactly what the booster gives, row by row."""

import lightgbm as lgb
import numpy as np
import pandas as pd
import pytest

from creditops.data.contract import uci
from creditops.modelling.estimators import TrainedModel
from creditops.serving.row_predictor import RowPredictor


def _one_by_one(predict: RowPredictor, features: np.ndarray) -> np.ndarray:
    return np.concatenate([predict(features[number : number + 1]) for number in range(len(features))])


def test_each_row_scores_exactly_as_the_booster(small_model: TrainedModel, small_frame: pd.DataFrame) -> None:
    features = uci().feature_matrix(small_frame)
    reloaded = TrainedModel(
        "lightgbm", lgb.Booster(model_str=small_model.estimator.model_to_string()), small_model.contract
    )
    predict = RowPredictor(reloaded)
    assert predict.uses_fast_path
    assert np.array_equal(_one_by_one(predict, features), small_model.predict_proba(features))


def test_an_early_stopped_booster_scores_with_its_best_iteration(
    small_model: TrainedModel, small_frame: pd.DataFrame
) -> None:
    booster = lgb.Booster(model_str=small_model.estimator.model_to_string())
    booster.best_iteration = 5
    features = uci().feature_matrix(small_frame)[:50]
    expected = booster.predict(features)
    assert not np.allclose(expected, small_model.predict_proba(features))
    assert np.array_equal(_one_by_one(RowPredictor(TrainedModel("lightgbm", booster, uci())), features), expected)


@pytest.mark.parametrize("rows", [0, 2, 100])
def test_batches_go_through_the_model(small_model: TrainedModel, small_frame: pd.DataFrame, rows: int) -> None:
    features = uci().feature_matrix(small_frame)[:rows]
    assert np.array_equal(RowPredictor(small_model)(features), small_model.predict_proba(features))


def test_the_original_gbm_scores_through_the_model(
    small_sklearn_model: TrainedModel, small_frame: pd.DataFrame
) -> None:
    features = uci().feature_matrix(small_frame)[:20]
    predict = RowPredictor(small_sklearn_model)
    assert not predict.uses_fast_path
    assert np.array_equal(_one_by_one(predict, features), small_sklearn_model.predict_proba(features))
