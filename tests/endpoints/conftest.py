"""A workspace with a registry of two model versions and a deliberately broken model folder."""

import re
from collections.abc import Iterator
from pathlib import Path

import lightgbm as lgb
import numpy as np
import pytest

from creditops.config.modelling import ModellingConfig
from creditops.context import from_process
from creditops.data.contract import uci
from creditops.data.io import write_table
from creditops.data.synth import synthesize
from creditops.endpoints import state
from creditops.endpoints.targets.local import LocalTarget
from creditops.modelling.estimators import TrainedModel
from creditops.pipeline import run_pipeline
from creditops.tracking.registry import save_model_dir


@pytest.fixture(scope="package")
def model_workspace(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    root = tmp_path_factory.mktemp("endpoints")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CREDITOPS_WORKSPACE", str(root / "workspace"))
        patch.delenv("MLFLOW_TRACKING_URI", raising=False)
        patch.chdir(root)
        data = write_table(synthesize(1_500, 3), root / "data.csv")
        for trees in (5, 40):  # version 1, then version 2 (a tolerance of 1 lets it count as better)
            settings = {"train": {"n_estimators": trees}, "eval": {"tolerance": 1.0}}
            run_pipeline(data, ModellingConfig.model_validate(settings), from_process())
        yield root
        for name in state.names(from_process().endpoints_dir):
            LocalTarget(from_process(), name).delete()


@pytest.fixture(scope="package")
def broken_model(model_workspace: Path) -> str:
    """A model that loads and answers, but with 'probabilities' far outside [0, 1]."""
    contract = uci()
    features = np.random.default_rng(0).normal(size=(200, len(contract.features)))
    booster = lgb.train(
        {"objective": "regression", "verbosity": -1, "min_data_in_leaf": 5},
        lgb.Dataset(features, label=features[:, 0] * 100 + 50, feature_name=list(contract.features)),
        num_boost_round=5,
    )
    target = model_workspace / "broken_model"
    save_model_dir(TrainedModel("lightgbm", booster, contract), target)
    return str(target)


@pytest.fixture
def endpoint(model_workspace: Path, request: pytest.FixtureRequest) -> Iterator[str]:
    name = "ep-" + re.sub(r"[^a-z0-9]+", "-", request.node.name.removeprefix("test_").lower())[:29].strip("-")
    LocalTarget(from_process(), name).create(auth="key")
    yield name
    LocalTarget(from_process(), name).delete()


@pytest.fixture(scope="package")
def inverted_model(model_workspace: Path) -> str:
    """A model that loads and answers valid probabilities, trained on the opposite labels: it disagrees."""
    contract = uci()
    frame = synthesize(1_500, 3)
    features = contract.feature_matrix(frame)
    labels = 1 - contract.labels(frame)
    dataset = lgb.Dataset(features, label=labels, feature_name=list(contract.features))
    booster = lgb.train({"objective": "binary", "verbosity": -1, "num_threads": 1}, dataset, 40)
    target = model_workspace / "inverted_model"
    save_model_dir(TrainedModel("lightgbm", booster, contract), target)
    return str(target)
