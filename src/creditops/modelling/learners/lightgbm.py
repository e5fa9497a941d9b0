"""LightGBM: the default learner. Text categories split as categories; the contract's monotone directions
are kept; contributions are LightGBM's exact TreeSHAP (`pred_contrib`). Stored in LightGBM's text format."""

from pathlib import Path
from typing import Any

import numpy as np
from pydantic import Field

from creditops.data.contract import Contract
from creditops.modelling.learners.base import Learner, LearnerParams, NativeFlavor, training_threads


class LightGBMParams(LearnerParams):
    n_estimators: int = Field(100, ge=1, le=10_000, description="Number of boosted trees")
    learning_rate: float = Field(0.05, gt=0, le=1, description="Shrinkage of each tree")
    num_leaves: int = Field(7, ge=2, le=4096, description="Leaves per tree")
    min_data_in_leaf: int = Field(40, ge=1, description="Fewest training rows in a leaf")
    feature_fraction: float = Field(0.9, gt=0, le=1, description="Share of features each tree sees")
    bagging_fraction: float = Field(0.9, gt=0, le=1, description="Share of rows each tree sees")
    lambda_l2: float = Field(1.0, ge=0, description="L2 penalty on leaf values")


class LightGBM(Learner):
    name = "lightgbm"
    Params = LightGBMParams
    explanation = "exact TreeSHAP"
    requirements = ("lightgbm",)
    native_flavor = NativeFlavor(name="lightgbm", data="data")

    def fit(
        self, features: np.ndarray, labels: np.ndarray, contract: Contract, params: LightGBMParams, seed: int
    ) -> Any:
        import lightgbm as lgb  # on use: commands that do not train or score answer without loading it

        dataset = lgb.Dataset(
            features,
            label=labels,
            feature_name=list(contract.features),
            categorical_feature=list(contract.categorical_features) or "auto",
            free_raw_data=True,
        )
        settings = booster_settings(params, contract, seed=seed, threads=training_threads(len(labels)))
        return lgb.train(settings, dataset, num_boost_round=params.n_estimators)

    def predict_proba(self, estimator: Any, matrix: np.ndarray, threads: int) -> np.ndarray:
        return np.asarray(estimator.predict(matrix, num_threads=threads), dtype=np.float64)

    def contributions(self, estimator: Any, matrix: np.ndarray, threads: int) -> np.ndarray:
        return np.asarray(estimator.predict(matrix, pred_contrib=True, num_threads=threads), dtype=np.float64)

    def save(self, estimator: Any, path: Path) -> None:
        estimator.save_model(str(path))

    def load(self, path: Path, contract: Contract | None) -> Any:
        from creditops.modelling.lightgbm_text import read_booster

        return read_booster(path)

    def inputs(self, estimator: Any) -> tuple[list[str] | None, int]:
        return list(estimator.feature_name()), int(estimator.num_feature())

    def recognises(self, head: bytes) -> bool:
        return head.startswith(b"tree\n")


def booster_settings(params: LightGBMParams, contract: Contract, *, seed: int, threads: int) -> dict[str, Any]:
    """LightGBM's parameters for `params` on `contract`'s features (its monotone directions kept): the
    same for training in this process and on a Dask cluster (compute/training.py)."""
    settings: dict[str, Any] = {
        "objective": "binary",
        "learning_rate": params.learning_rate,
        "num_leaves": params.num_leaves,
        "min_data_in_leaf": params.min_data_in_leaf,
        "feature_fraction": params.feature_fraction,
        "bagging_fraction": params.bagging_fraction,
        "bagging_freq": 1,
        "lambda_l2": params.lambda_l2,
        "seed": seed,
        "deterministic": True,
        "force_row_wise": True,
        "num_threads": threads,
        "verbosity": -1,
    }
    constraints = contract.monotone_constraints()
    if any(constraints):
        settings["monotone_constraints"] = constraints
    return settings
