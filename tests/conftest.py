"""Shared fixtures: tiny seeded data and an isolated workspace with its own MLflow store."""

import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import Phase, settings

from creditops.context import Context, from_process
from creditops.data.contract import uci
from creditops.data.io import write_table
from creditops.data.synth import synthesize
from creditops.modelling.estimators import TrainedModel, train_model
from creditops.serving.model import LoadedModel

from .sample_requests import original_request

SMALL_ROWS = 2_000
SEED = 7

if os.environ.get("MUTANT_UNDER_TEST"):  # mutmut: a counterexample kills the mutant, shrinking it adds nothing
    settings.register_profile("mutation", phases=(Phase.explicit, Phase.reuse, Phase.generate))
    settings.load_profile("mutation")


@pytest.fixture(scope="session")
def small_frame() -> pd.DataFrame:
    return synthesize(SMALL_ROWS, SEED)


def _quick_model(frame: pd.DataFrame, algorithm: str) -> TrainedModel:
    shape = {"num_leaves": 7} if algorithm == "lightgbm" else {"max_depth": 3}
    return train_model(
        uci().feature_matrix(frame),
        uci().labels(frame),
        algorithm=algorithm,
        params={"n_estimators": 20, "learning_rate": 0.1, **shape},
        seed=0,
        contract=uci(),
    )


@pytest.fixture(scope="session")
def small_model(small_frame: pd.DataFrame) -> TrainedModel:
    """A quick LightGBM model on the small frame, shared by the tests that only need a model."""
    return _quick_model(small_frame, "lightgbm")


@pytest.fixture(scope="session")
def small_sklearn_model(small_frame: pd.DataFrame) -> TrainedModel:
    """The same, with the original scikit-learn GBM."""
    return _quick_model(small_frame, "sklearn_gbm")


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh workspace (and embedded MLflow store) under tmp_path, used as the current directory."""
    root = tmp_path / "workspace"
    monkeypatch.setenv("CREDITOPS_WORKSPACE", str(root))
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.delenv("MLFLOW_RUN_ID", raising=False)
    monkeypatch.chdir(tmp_path)
    return root


@pytest.fixture
def context(workspace: Path) -> Context:
    """The context of the fresh workspace, built as the command line builds it."""
    return from_process()


@pytest.fixture
def data_file(tmp_path: Path, small_frame: pd.DataFrame) -> Path:
    return write_table(small_frame, tmp_path / "input" / "credit_default.csv")


@pytest.fixture
def original_request_bytes() -> bytes:
    return json.dumps(original_request()).encode()


@pytest.fixture
def reachable(tmp_path: Path) -> Iterator[Path]:
    """A folder a team store's PostgreSQL can live in: as root the cluster runs as `postgres`, which cannot
    enter pytest's 0700 folders."""
    if os.geteuid() != 0:
        yield tmp_path
        return
    base = Path(tempfile.mkdtemp(prefix="creditops-store-test-"))
    base.chmod(0o711)
    try:
        yield base
    finally:
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def loaded(small_model: TrainedModel) -> LoadedModel:
    """The small model as the scoring commands hold it: registered version 7, threshold 0.4."""
    return LoadedModel(small_model, "credit_default_model", "7", "models:/credit_default_model/7", 0.4)


@pytest.fixture
def portfolio(small_frame: pd.DataFrame) -> pd.DataFrame:
    """The small frame with two rows a scoring check refuses: SEX 9 (row 3) and AGE 7 (row 1500)."""
    frame = small_frame.copy()
    frame.loc[3, "SEX"] = 9
    frame.loc[1500, "AGE"] = 7
    return frame


@pytest.fixture(scope="session")
def two_versions(tmp_path_factory: pytest.TempPathFactory) -> Context:
    """A store with two registered versions that differ (tests/registered_versions.py), made once."""
    from .registered_versions import register_two_versions

    return register_two_versions(tmp_path_factory.getbasetemp() / "two-versions")
