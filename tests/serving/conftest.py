import pytest

from creditops.data.schema import FEATURES
from creditops.modelling.estimators import TrainedModel
from creditops.serving.model import LoadedModel


@pytest.fixture(scope="session")
def loaded(small_model: TrainedModel) -> LoadedModel:
    return LoadedModel(small_model, "credit_default_model", "3", "models:/credit_default_model/3")


def records(rows: list[list[float]]) -> list[dict]:
    return [dict(zip(FEATURES, row, strict=True)) for row in rows]
