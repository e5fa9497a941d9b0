"""Train the credit-default classifier and predict the probability of default, whatever the learner."""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from creditops.data.contract import Contract
from creditops.modelling.learners import learner
from creditops.modelling.learners.base import Learner, training_threads

__all__ = ["TrainedModel", "fitted", "train_model", "training_threads"]


@dataclass(frozen=True)
class TrainedModel:
    """A fitted model: the learner's name and estimator, over its contract's features in order. The contract
    comes with the model (trained with it, or read from the registered version)."""

    algorithm: str
    estimator: Any
    contract: Contract

    @property
    def learner(self) -> Learner:
        return learner(self.algorithm)

    def predict_proba(self, features: np.ndarray | pd.DataFrame, *, threads: int = 1) -> np.ndarray:
        """The probability of default for each row, as a 1-D float array (on up to `threads` threads where the
        learner uses them): of a feature matrix in the contract's feature order, or of a frame, whose columns
        the model's own contract picks and encodes (a champion under another contract reads the same frame
        its own way)."""
        values = self.contract.feature_matrix(features) if isinstance(features, pd.DataFrame) else features
        return self.learner.predict_proba(self.estimator, np.asarray(values, dtype=np.float64), threads)


def train_model(
    features: np.ndarray,
    labels: np.ndarray,
    *,
    algorithm: str,
    params: Mapping[str, Any] | None = None,
    seed: int,
    contract: Contract,
) -> TrainedModel:
    """Fit learner `algorithm` with `params` (its Params keys; missing ones take their defaults) on the
    contract's features; deterministic for a seed."""
    chosen = learner(algorithm)
    return fitted(chosen.name, chosen.fit(features, labels, contract, chosen.params(params), seed), contract)


def fitted(algorithm: str, estimator: Any, contract: Contract) -> TrainedModel:
    """The model of learner `algorithm` whose estimator was fitted on `contract`'s features, here or
    elsewhere (a LightGBM booster trained on a Dask cluster is the same model as one trained here)."""
    return TrainedModel(learner(algorithm).name, estimator, contract)
