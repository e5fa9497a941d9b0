"""XGBoost: histogram trees with text categories split natively and the contract's monotone directions kept;
contributions are XGBoost's exact TreeSHAP (`pred_contribs`). Stored in XGBoost's own JSON model format.

XGBoost ends the process (std::terminate) on an empty model buffer and reads trees whose node links point
anywhere, so a file is parsed and its trees' links checked here before XGBoost sees it. XGBoost computes in
float32: contributions sum to the raw score within about 1e-6.
"""

import json
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import Field

from creditops.data.contract import Contract
from creditops.errors import CreditopsError
from creditops.modelling.learners.base import Learner, LearnerParams, training_threads
from creditops.modelling.lightgbm_text import checked_bytes


class XGBoostParams(LearnerParams):
    n_estimators: int = Field(100, ge=1, le=10_000, description="Number of boosted trees")
    learning_rate: float = Field(0.05, gt=0, le=1, description="Shrinkage of each tree (eta)")
    max_depth: int = Field(3, ge=1, le=64, description="Depth of each tree")
    min_child_weight: float = Field(1.0, ge=0, description="Least hessian weight in a child")
    subsample: float = Field(0.9, gt=0, le=1, description="Share of rows each tree sees")
    colsample_bytree: float = Field(0.9, gt=0, le=1, description="Share of features each tree sees")
    reg_lambda: float = Field(1.0, ge=0, description="L2 penalty on leaf weights")


class XGBoost(Learner):
    name = "xgboost"
    Params = XGBoostParams
    explanation = "exact TreeSHAP"
    requirements = ("xgboost-cpu",)

    def fit(
        self, features: np.ndarray, labels: np.ndarray, contract: Contract, params: XGBoostParams, seed: int
    ) -> Any:
        import xgboost as xgb

        settings: dict[str, Any] = {
            "objective": "binary:logistic",
            "tree_method": "hist",
            "eta": params.learning_rate,
            "max_depth": params.max_depth,
            "min_child_weight": params.min_child_weight,
            "subsample": params.subsample,
            "colsample_bytree": params.colsample_bytree,
            "lambda": params.reg_lambda,
            "seed": seed,
        }
        constraints = contract.monotone_constraints()
        if any(constraints):
            settings["monotone_constraints"] = "(" + ",".join(map(str, constraints)) + ")"
        # The thread count set globally, not on the booster: a booster keeps no count of its own, so each
        # prediction uses the one it is asked for.
        with xgb.config_context(nthread=training_threads(len(labels)), verbosity=1):
            return xgb.train(
                settings, _matrix(features, contract.features, _types(contract), labels), params.n_estimators
            )

    def predict_proba(self, estimator: Any, matrix: np.ndarray, threads: int) -> np.ndarray:
        import xgboost as xgb

        with xgb.config_context(nthread=threads):
            return np.asarray(estimator.inplace_predict(matrix), dtype=np.float64)

    def contributions(self, estimator: Any, matrix: np.ndarray, threads: int) -> np.ndarray:
        import xgboost as xgb

        with xgb.config_context(nthread=threads):
            rows = _matrix(matrix, estimator.feature_names, estimator.feature_types)
            return np.asarray(estimator.predict(rows, pred_contribs=True), dtype=np.float64)

    def save(self, estimator: Any, path: Path) -> None:
        path.write_bytes(bytes(estimator.save_raw("json")))

    def load(self, path: Path, contract: Contract | None) -> Any:
        import xgboost as xgb

        text = checked_bytes(path, problem)
        booster = xgb.Booster()
        try:
            booster.load_model(bytearray(text))
        except xgb.core.XGBoostError as error:
            first = str(error).strip().splitlines()[0] if str(error).strip() else "XGBoost refused it"
            raise CreditopsError(f"model file {path} cannot be loaded: {first}") from error
        return booster

    def inputs(self, estimator: Any) -> tuple[list[str] | None, int]:
        names = estimator.feature_names
        return (list(names) if names is not None else None), int(estimator.num_features())

    def recognises(self, head: bytes) -> bool:
        return head.lstrip().startswith(b'{"learner"')


def problem(text: bytes) -> str | None:
    """Why `text` is not an XGBoost JSON model whose trees' links stay inside each tree, or None."""
    try:
        model = json.loads(text)
        trees = model["learner"]["gradient_booster"]["model"]["trees"]
        features = int(model["learner"]["learner_model_param"]["num_feature"])
    except (ValueError, UnicodeDecodeError):
        return "it is not JSON (cut or edited?)"
    except (KeyError, TypeError):
        return "it is JSON but not an XGBoost tree model"
    for position, tree in enumerate(trees):
        try:
            nodes = int(tree["tree_param"]["num_nodes"])
            links = np.asarray([tree["left_children"], tree["right_children"]], dtype=np.int64)
            splits = np.asarray(tree["split_indices"], dtype=np.int64)
        except (KeyError, TypeError, ValueError):
            return f"tree {position} lacks its node lists"
        inner = links >= 0
        if links.shape != (2, nodes) or splits.shape != (nodes,):
            return f"tree {position}'s node lists are not {nodes} long"
        children = links[inner]
        # In range, never the root and never linked twice: walking down from the root always ends.
        if (children >= nodes).any() or (children <= 0).any() or len(np.unique(children)) != len(children):
            return f"tree {position} links its nodes into something other than a tree"
        if (splits[inner[0]] >= features).any() or (splits[inner[0]] < 0).any():
            return f"tree {position} splits on a feature the model does not have"
    return None


def _types(contract: Contract) -> list[str]:
    return ["c" if name in contract.categorical_features else "q" for name in contract.features]


def _matrix(values: np.ndarray, names: Any, types: Any, labels: np.ndarray | None = None) -> Any:
    import xgboost as xgb

    return xgb.DMatrix(
        values, label=labels, feature_names=list(names), feature_types=list(types), enable_categorical=True
    )
