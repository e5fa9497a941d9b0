"""What every learner must do, asserted the same way for each (its test module calls these)."""

import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from creditops.data.contract import Contract
from creditops.modelling.estimators import TrainedModel, train_model
from creditops.modelling.reasons import contributions
from creditops.modelling.serialization import load_model, save_model


def fit(name: str, frame: pd.DataFrame, contract: Contract, params: dict[str, Any], seed: int = 3) -> TrainedModel:
    return train_model(
        contract.feature_matrix(frame),
        contract.labels(frame),
        algorithm=name,
        params=params,
        seed=seed,
        contract=contract,
    )


def probabilities_in_unit_interval(model: TrainedModel, frame: pd.DataFrame) -> None:
    probability = model.predict_proba(frame)
    assert probability.shape == (len(frame),)
    assert probability.dtype == np.float64
    assert ((probability >= 0) & (probability <= 1)).all()
    assert np.ptp(probability) > 0.05  # it separates rows


def deterministic(name: str, frame: pd.DataFrame, contract: Contract, params: dict[str, Any]) -> None:
    first = fit(name, frame, contract, params).predict_proba(frame)
    second = fit(name, frame, contract, params).predict_proba(frame)
    np.testing.assert_array_equal(first, second)


def contributions_sum_to_the_log_odds(model: TrainedModel, frame: pd.DataFrame, atol: float = 1e-9) -> np.ndarray:
    matrix = model.contract.feature_matrix(frame)
    parts = contributions(model, matrix)
    probability = model.predict_proba(matrix)
    assert parts.shape == (len(frame), len(model.contract.features) + 1)
    assert np.ptp(parts[:, -1]) == 0  # one base value for every row
    np.testing.assert_allclose(parts.sum(axis=1), np.log(probability / (1 - probability)), atol=atol)
    return parts


def round_trip(model: TrainedModel, frame: pd.DataFrame, folder: Path) -> bytes:
    """Save and load the model file; the loaded model predicts identically. Returns the file's bytes."""
    path = save_model(model, folder / "model.pkl")  # the config's historical name: the content decides
    loaded = load_model(path, model.contract)
    assert loaded.algorithm == model.algorithm
    np.testing.assert_array_equal(loaded.predict_proba(frame), model.predict_proba(frame))
    content = path.read_bytes()
    assert not content.startswith(b"\x80")  # never a pickle
    if content.startswith(b"PK"):  # a skops archive: JSON and arrays, no pickle inside
        with zipfile.ZipFile(path) as archive:
            assert not [name for name in archive.namelist() if name.endswith((".pkl", ".pickle"))]
    else:
        content.decode("utf-8")  # text
    return content


def monotone(model: TrainedModel, frame: pd.DataFrame, name: str, step: float, direction: int) -> None:
    """Raising `name` by `step` never moves the probability against `direction` (+1 up, -1 down)."""
    raised = frame.assign(**{name: frame[name] + step})
    shift = model.predict_proba(raised) - model.predict_proba(frame)
    assert (direction * shift >= -1e-12).all()
