"""A learner is one module and one registry entry: a test-only learner, entered in LEARNERS and nowhere
else, trains, scores, explains, saves, goes through MLflow and is chosen by the config."""

import json
from pathlib import Path
from typing import Any

import mlflow
import numpy as np
import pandas as pd
import pytest
from pydantic import Field

from creditops.config.modelling import load_modelling_config
from creditops.data.contract import Contract
from creditops.modelling.estimators import train_model
from creditops.modelling.learners import LEARNERS
from creditops.modelling.learners.base import Learner, LearnerParams
from creditops.modelling.reasons import contributions
from creditops.modelling.serialization import load_model, save_model
from creditops.tracking import registry


class _LogisticParams(LearnerParams):
    strength: float = Field(1.0, gt=0, description="Inverse L2 strength")


class _Logistic(Learner):
    """A logistic regression on the raw features, kept as JSON weights: each feature's contribution is its
    weight times its value, the intercept is the base value."""

    name = "logistic"
    Params = _LogisticParams
    explanation = "weight times value"
    requirements = ("scikit-learn",)

    def fit(self, features: np.ndarray, labels: np.ndarray, contract: Contract, params: Any, seed: int) -> Any:
        from sklearn.linear_model import LogisticRegression

        fitted = LogisticRegression(C=params.strength, max_iter=500).fit(np.nan_to_num(features), labels)
        return {"kind": "logistic-weights", "features": list(contract.features)} | {
            "weights": fitted.coef_[0].tolist(),
            "intercept": float(fitted.intercept_[0]),
        }

    def predict_proba(self, estimator: Any, matrix: np.ndarray, threads: int) -> np.ndarray:
        return 1 / (1 + np.exp(-self.contributions(estimator, matrix, threads).sum(axis=1)))

    def contributions(self, estimator: Any, matrix: np.ndarray, threads: int) -> np.ndarray:
        parts = np.nan_to_num(matrix) * np.asarray(estimator["weights"])
        return np.column_stack([parts, np.full(len(matrix), estimator["intercept"])])

    def save(self, estimator: Any, path: Path) -> None:
        path.write_text(json.dumps(estimator))

    def load(self, path: Path, contract: Contract | None) -> Any:
        return json.loads(path.read_text())

    def inputs(self, estimator: Any) -> tuple[list[str] | None, int]:
        return estimator["features"], len(estimator["features"])

    def recognises(self, head: bytes) -> bool:
        return b'"logistic-weights"' in head


@pytest.fixture
def plugged(monkeypatch: pytest.MonkeyPatch) -> Learner:
    learner = _Logistic()
    monkeypatch.setitem(LEARNERS, learner.name, learner)
    return learner


def test_a_plugged_in_learner_trains_scores_explains_and_saves(
    plugged: Learner, shop_frame: pd.DataFrame, shop_contract: Contract, tmp_path: Path
) -> None:
    matrix = shop_contract.feature_matrix(shop_frame)
    model = train_model(
        matrix,
        shop_contract.labels(shop_frame),
        algorithm="logistic",
        params={"strength": 0.5},
        seed=0,
        contract=shop_contract,
    )
    probability = model.predict_proba(shop_frame)
    assert ((probability > 0) & (probability < 1)).all()
    parts = contributions(model, matrix)
    np.testing.assert_allclose(parts.sum(axis=1), np.log(probability / (1 - probability)), atol=1e-9)
    again = load_model(save_model(model, tmp_path / "model.pkl"), shop_contract)
    np.testing.assert_array_equal(again.predict_proba(matrix), probability)
    # through an MLflow folder with creditops' flavor, and MLflow's own pyfunc
    folder = registry.save_model_dir(model, tmp_path / "folder")
    np.testing.assert_array_equal(registry.load_model_dir(folder).predict_proba(matrix), probability)
    pyfunc = mlflow.pyfunc.load_model(str(folder))
    np.testing.assert_array_equal(np.asarray(pyfunc.predict(shop_frame[list(shop_contract.features)])), probability)


def test_the_config_chooses_it_and_validates_its_params(plugged: Learner, tmp_path: Path) -> None:
    path = tmp_path / "modelling.json"
    path.write_text(json.dumps({"train": {"algorithm": "logistic", "params": {"strength": 0.5}}}))
    assert load_modelling_config(path).train.learner_params() == _LogisticParams(strength=0.5)
