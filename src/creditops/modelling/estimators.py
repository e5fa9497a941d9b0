"""Train the credit-default classifier and predict the probability of default."""

import os
from dataclasses import dataclass
from typing import Any, Final

import numpy as np
import pandas as pd

from creditops.data.contract import Contract

TRAINING_THREADS: int | None = None
"""A fixed thread count for LightGBM training (benchmarks set it); None: `training_threads()`."""


TWO_THREADS_FROM: Final = 200_000
"""Training rows from which two (passive) threads pay for their waiting."""


def training_threads(rows: int) -> int:
    """Two threads for large data when OpenMP's threads sleep while they wait (`OMP_WAIT_POLICY=PASSIVE`,
    set by every creditops edge), else one. Beside two busy LightGBM processes (benchmarks/bench_busy.py):
    on 750,000 rows two spinning threads took 6.2 s quiet but 192 s busy, one thread 11.0 s and 27.9 s,
    two passive threads 7.3 s and 19.5 s; on 30,000 rows one thread is best (0.35 s and 0.9 s against
    0.42 s and 1.33 s). The trees are the same for any count."""
    passive = os.environ.get("OMP_WAIT_POLICY", "").upper() == "PASSIVE"
    return 2 if passive and rows >= TWO_THREADS_FROM else 1


@dataclass(frozen=True)
class TrainedModel:
    """A fitted model: a LightGBM booster or the original scikit-learn GBM, over its contract's features in
    order. The contract comes with the model (trained with it, or read from the registered version)."""

    algorithm: str
    estimator: Any
    contract: Contract

    def predict_proba(self, features: np.ndarray | pd.DataFrame, *, threads: int = 1) -> np.ndarray:
        """The probability of default for each row, as a 1-D float array (LightGBM with `threads` threads):
        of a feature matrix in the contract's feature order, or of a frame, whose columns the model's own
        contract picks and encodes (a champion under another contract reads the same frame its own way)."""
        values = self.contract.feature_matrix(features) if isinstance(features, pd.DataFrame) else features
        values = np.asarray(values, dtype=np.float64)
        if self.algorithm == "lightgbm":
            return np.asarray(self.estimator.predict(values, num_threads=threads), dtype=np.float64)
        return np.asarray(self.estimator.predict_proba(values)[:, 1], dtype=np.float64)


def train_model(
    features: np.ndarray,
    labels: np.ndarray,
    *,
    algorithm: str,
    n_estimators: int,
    learning_rate: float,
    num_leaves: int,
    max_depth: int,
    seed: int,
    contract: Contract,
) -> TrainedModel:
    """Fit the chosen algorithm on the contract's features; deterministic for a seed. LightGBM splits text
    categories as categories and keeps the contract's monotone directions."""
    # Imported on use, here and in the loaders: commands that only read the registry or fail on their
    # arguments answer without loading LightGBM or scikit-learn.
    if algorithm == "lightgbm":
        import lightgbm as lgb

        params = {
            "objective": "binary",
            "learning_rate": learning_rate,
            "num_leaves": num_leaves,
            "min_data_in_leaf": 40,
            "feature_fraction": 0.9,
            "bagging_fraction": 0.9,
            "bagging_freq": 1,
            "lambda_l2": 1.0,
            "seed": seed,
            "deterministic": True,
            "force_row_wise": True,
            "num_threads": TRAINING_THREADS or training_threads(len(labels)),
            "verbosity": -1,
        }
        constraints = contract.monotone_constraints()
        if any(constraints):
            params["monotone_constraints"] = constraints
        dataset = lgb.Dataset(
            features,
            label=labels,
            feature_name=list(contract.features),
            categorical_feature=list(contract.categorical_features) or "auto",
            free_raw_data=True,
        )
        booster = lgb.train(params, dataset, num_boost_round=n_estimators)
        return TrainedModel(algorithm, booster, contract)
    if algorithm == "sklearn_gbm":
        from sklearn.ensemble import GradientBoostingClassifier

        estimator = GradientBoostingClassifier(
            n_estimators=n_estimators,
            learning_rate=learning_rate,
            max_depth=max_depth,
            random_state=seed,
        )
        estimator.fit(features, labels)
        return TrainedModel(algorithm, estimator, contract)
    raise ValueError(f"unknown algorithm {algorithm!r}: use lightgbm or sklearn_gbm")
