"""Every learner's MLflow model folder: written, logged, registered, verified and loaded back the same, and
read by MLflow's own pyfunc for the learners with creditops' flavor."""

from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest
import yaml

from creditops.context import Context
from creditops.data.contract import Contract
from creditops.errors import CreditopsError
from creditops.modelling.estimators import TrainedModel
from creditops.modelling.learners import LEARNERS
from creditops.tracking import registry
from creditops.tracking.registry import Registry
from creditops.tracking.runs import Tracker

from . import checks

PARAMS = {
    "lightgbm": {"n_estimators": 10},
    "sklearn_gbm": {"n_estimators": 10},
    "xgboost": {"n_estimators": 10},
    "scorecard": {},
}
OWN_FLAVOR = ["xgboost", "scorecard"]


@pytest.fixture(scope="module")
def frame(shop_frame: pd.DataFrame) -> pd.DataFrame:
    return shop_frame.fillna({"utilisation": 0.5})  # the scikit-learn GBM takes no missing values


@pytest.fixture(scope="module")
def models(frame: pd.DataFrame, shop_contract: Contract) -> dict[str, TrainedModel]:
    return {name: checks.fit(name, frame, shop_contract, PARAMS[name]) for name in LEARNERS}


def test_every_learner_has_a_test_here() -> None:
    assert set(PARAMS) == set(LEARNERS)


@pytest.mark.parametrize("name", list(PARAMS))
def test_a_model_folder_reads_back_the_same_and_its_model_file_is_deterministic(
    models: dict[str, TrainedModel], frame: pd.DataFrame, tmp_path: Path, name: str
) -> None:
    model = models[name]
    first = registry.save_model_dir(model, tmp_path / "first")
    loaded = Registry("sqlite:///unused.db").load(str(first))
    assert loaded.algorithm == name
    assert loaded.contract == model.contract
    np.testing.assert_array_equal(loaded.predict_proba(frame), model.predict_proba(frame))
    second = registry.save_model_dir(model, tmp_path / "second")
    assert (first / registry.CONTRACT_FILE).read_bytes() == (second / registry.CONTRACT_FILE).read_bytes()
    data = {path.relative_to(first) for path in first.rglob("*") if path.suffix in {".json", ".lgb"}}
    assert data, "the model file is in the folder"
    for relative in data:
        assert (first / relative).read_bytes() == (second / relative).read_bytes()


@pytest.mark.parametrize("name", list(PARAMS))
def test_a_logged_and_registered_model_loads_verified_with_the_same_predictions(
    context: Context, models: dict[str, TrainedModel], frame: pd.DataFrame, name: str
) -> None:
    store = Registry(context.store_uri)
    with Tracker(enabled=True, uri=context.store_uri).run(f"log {name}"):
        logged = registry.log_model(models[name])
    version = store.register(logged, f"shop-{name}", {})
    loaded = store.load(version)
    assert loaded.algorithm == name
    np.testing.assert_array_equal(loaded.predict_proba(frame), models[name].predict_proba(frame))


@pytest.mark.parametrize("name", OWN_FLAVOR)
def test_mlflows_pyfunc_reads_the_folder_and_predicts_the_probability(
    models: dict[str, TrainedModel], shop_frame: pd.DataFrame, tmp_path: Path, name: str
) -> None:
    folder = registry.save_model_dir(models[name], tmp_path / name)
    flavor = yaml.safe_load((folder / "MLmodel").read_text())["flavors"]["creditops"]
    assert flavor["learner"] == name
    assert (folder / flavor["data"]).is_file()
    rows = shop_frame[list(models[name].contract.features)].head(50)  # text categories as text, NaN kept
    predicted = mlflow.pyfunc.load_model(str(folder)).predict(rows)
    np.testing.assert_array_equal(np.asarray(predicted), models[name].predict_proba(rows))


def test_a_folder_naming_a_learner_this_creditops_lacks_is_one_line(
    models: dict[str, TrainedModel], tmp_path: Path
) -> None:
    folder = registry.save_model_dir(models["scorecard"], tmp_path / "m")
    mlmodel = folder / "MLmodel"
    mlmodel.write_text(mlmodel.read_text().replace("learner: scorecard", "learner: catboost"))
    with pytest.raises(CreditopsError, match=r"names learner 'catboost', which this creditops does not have") as raised:
        registry.load_model_dir(folder)
    assert "\n" not in str(raised.value)


def test_a_folder_whose_model_has_other_features_than_its_contract_is_refused(
    models: dict[str, TrainedModel], tmp_path: Path
) -> None:
    folder = registry.save_model_dir(models["xgboost"], tmp_path / "m")
    contract = folder / registry.CONTRACT_FILE
    contract.write_text(contract.read_text().replace('"income"', '"salary"'))
    with pytest.raises(CreditopsError, match=r"features are not the 4 of its data contract"):
        registry.load_model_dir(folder)
