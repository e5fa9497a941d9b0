import pandas as pd
import pytest

from creditops.data.schema import FEATURES, LABEL
from creditops.modelling.estimators import TrainedModel, feature_matrix, train_model
from creditops.serving.app import LoadedModel


@pytest.fixture(scope="session")
def trained(small_frame: pd.DataFrame) -> TrainedModel:
    return train_model(
        feature_matrix(small_frame),
        small_frame[LABEL].to_numpy(),
        algorithm="lightgbm",
        n_estimators=20,
        learning_rate=0.1,
        num_leaves=7,
        max_depth=3,
        seed=0,
    )


@pytest.fixture(scope="session")
def loaded(trained: TrainedModel) -> LoadedModel:
    return LoadedModel(trained, "credit_default_model", "3", "models:/credit_default_model/3")


def records(rows: list[list[float]]) -> list[dict]:
    return [dict(zip(FEATURES, row, strict=True)) for row in rows]
