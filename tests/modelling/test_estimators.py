from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import skops.io
from sklearn.linear_model import LogisticRegression

from creditops.data.contract import uci
from creditops.data.schema import LABEL
from creditops.errors import CreditopsError
from creditops.modelling.estimators import TrainedModel, train_model
from creditops.modelling.learners.sklearn_gbm import load_skops
from creditops.modelling.serialization import load_model, save_model


def _fit(frame: pd.DataFrame, algorithm: str, trees: int = 40) -> TrainedModel:
    shape = {"num_leaves": 15} if algorithm == "lightgbm" else {"max_depth": 3}
    return train_model(
        uci().feature_matrix(frame),
        frame[LABEL].to_numpy(),
        algorithm=algorithm,
        params={"n_estimators": trees, "learning_rate": 0.1, **shape},
        seed=1,
        contract=uci(),
    )


@pytest.fixture(scope="module", params=["lightgbm", "sklearn_gbm"])
def fitted(request: pytest.FixtureRequest, small_frame: pd.DataFrame) -> TrainedModel:
    return _fit(small_frame, request.param)


def test_probabilities_are_one_per_row_in_unit_interval(fitted: TrainedModel, small_frame: pd.DataFrame) -> None:
    probability = fitted.predict_proba(uci().feature_matrix(small_frame))
    assert probability.shape == (len(small_frame),)
    assert ((probability >= 0) & (probability <= 1)).all()


def test_training_is_deterministic_for_a_seed(small_frame: pd.DataFrame) -> None:
    features = uci().feature_matrix(small_frame)
    first = _fit(small_frame, "lightgbm").predict_proba(features)
    second = _fit(small_frame, "lightgbm").predict_proba(features)
    np.testing.assert_array_equal(first, second)


def test_worse_latest_repayment_does_not_lower_default_probability(
    fitted: TrainedModel, small_frame: pd.DataFrame
) -> None:
    # Given customers who paid on time last month, when only PAY_0 becomes a two-month delay
    on_time = small_frame[small_frame["PAY_0"] <= 0]
    late = on_time.assign(PAY_0=2)
    # then, on average, the predicted default probability rises
    before = fitted.predict_proba(uci().feature_matrix(on_time))
    after = fitted.predict_proba(uci().feature_matrix(late))
    assert after.mean() > before.mean() + 0.05
    assert (after >= before - 0.05).mean() > 0.9


def test_model_file_round_trip_predicts_the_same(
    tmp_path: Path, fitted: TrainedModel, small_frame: pd.DataFrame
) -> None:
    path = save_model(fitted, tmp_path / "model.pkl")
    loaded = load_model(path, uci())
    features = uci().feature_matrix(small_frame.head(200))
    np.testing.assert_allclose(loaded.predict_proba(features), fitted.predict_proba(features))


def test_skops_loader_refuses_types_outside_the_allow_list(tmp_path: Path) -> None:
    path = tmp_path / "other.skops"
    skops.io.dump({"model": LogisticRegression, "values": np.arange(3)}, path)
    untrusted = skops.io.get_untrusted_types(file=path)
    if not untrusted:
        pytest.skip("skops trusts every type in this archive")
    with pytest.raises(CreditopsError, match="untrusted types"):
        load_skops(path)


def test_missing_model_file_says_to_train_first(tmp_path: Path) -> None:
    with pytest.raises(CreditopsError, match="run the train step first"):
        load_model(tmp_path / "model.pkl", uci())


def test_unknown_algorithm_is_refused(small_frame: pd.DataFrame) -> None:
    with pytest.raises(CreditopsError, match=r"unknown learner 'catboost': creditops has lightgbm, sklearn_gbm, "):
        _fit(small_frame, "catboost")


def test_a_file_of_no_learner_is_one_line(tmp_path: Path) -> None:
    path = tmp_path / "model.pkl"
    path.write_bytes(b"")
    with pytest.raises(CreditopsError, match=r"is not a model file of any learner \(lightgbm, sklearn_gbm, "):
        load_model(path, uci())
