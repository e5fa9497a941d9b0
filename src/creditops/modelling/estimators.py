"""Train the credit-default classifier and predict the probability of default."""

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from creditops.data.schema import FEATURES

TRAINING_THREADS = 1
"""One thread, chosen by measurement (benchmarks/bench_busy.py, medians of 3, 30,000 rows): LightGBM's two
OpenMP threads spin-wait for each other, so beside two other LightGBM trainings (two CI jobs on one
runner) two threads went from 0.25 s to 1.48 s (5.9×; an earlier measurement saw 26 s), one thread from 0.35 s to
0.86–0.95 s (2.5–2.7×): slower by 0.1 s when the machine is quiet, and never collapsing."""


@dataclass(frozen=True)
class TrainedModel:
    """A fitted model: a LightGBM booster or the original scikit-learn GBM, over FEATURES in order."""

    algorithm: str
    estimator: Any

    def predict_proba(self, features: np.ndarray | pd.DataFrame, *, threads: int = 1) -> np.ndarray:
        """The probability of default for each row, as a 1-D float array (LightGBM with `threads` threads)."""
        values = np.asarray(features, dtype=np.float64)
        if self.algorithm == "lightgbm":
            return np.asarray(self.estimator.predict(values, num_threads=threads), dtype=np.float64)
        return np.asarray(self.estimator.predict_proba(values)[:, 1], dtype=np.float64)


def feature_matrix(frame: pd.DataFrame) -> np.ndarray:
    """The features of `frame` as a float matrix in the training column order."""
    return frame.loc[:, list(FEATURES)].to_numpy(dtype=np.float64)


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
) -> TrainedModel:
    """Fit the chosen algorithm; deterministic for a seed."""
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
            "num_threads": TRAINING_THREADS,
            "verbosity": -1,
        }
        dataset = lgb.Dataset(features, label=labels, feature_name=list(FEATURES), free_raw_data=True)
        booster = lgb.train(params, dataset, num_boost_round=n_estimators)
        return TrainedModel(algorithm, booster)
    if algorithm == "sklearn_gbm":
        from sklearn.ensemble import GradientBoostingClassifier

        estimator = GradientBoostingClassifier(
            n_estimators=n_estimators,
            learning_rate=learning_rate,
            max_depth=max_depth,
            random_state=seed,
        )
        estimator.fit(features, labels)
        return TrainedModel(algorithm, estimator)
    raise ValueError(f"unknown algorithm {algorithm!r}: use lightgbm or sklearn_gbm")
