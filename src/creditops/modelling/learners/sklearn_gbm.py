"""The original project's scikit-learn GradientBoostingClassifier, stored with skops.

scikit-learn's GBM has no TreeSHAP of its own: its contributions are the path attributions of each tree
(Saabas; `treeinterpreter`'s method): every split a row passes credits its feature with the change in the
node's value, so they sum exactly to the raw score, though unlike SHAP they are not averaged over feature
orders.

skops refuses every type not on an allow-list; the allow-list lives here in code, never read from the
file, and names exactly the types a fitted GradientBoostingClassifier holds beyond what skops trusts by
default.
"""

from pathlib import Path
from typing import Any, Final

import numpy as np
from pydantic import Field

from creditops.data.contract import Contract
from creditops.errors import CreditopsError
from creditops.modelling.learners.base import Learner, LearnerParams, NativeFlavor

SKOPS_TRUSTED_TYPES: Final = ("sklearn.tree._tree.Tree",)


class SklearnGBMParams(LearnerParams):
    n_estimators: int = Field(100, ge=1, le=10_000, description="Number of boosted trees")
    learning_rate: float = Field(0.05, gt=0, le=1, description="Shrinkage of each tree")
    max_depth: int = Field(3, ge=1, le=64, description="Depth of each tree")


class SklearnGBM(Learner):
    name = "sklearn_gbm"
    Params = SklearnGBMParams
    explanation = "path attributions (Saabas)"
    requirements = ("scikit-learn", "skops")
    native_flavor = NativeFlavor(
        name="sklearn",
        data="pickled_model",
        options={"serialization_format": "skops", "skops_trusted_types": list(SKOPS_TRUSTED_TYPES)},
        requires={"serialization_format": "skops"},
    )

    def fit(
        self, features: np.ndarray, labels: np.ndarray, contract: Contract, params: SklearnGBMParams, seed: int
    ) -> Any:
        from sklearn.ensemble import GradientBoostingClassifier

        estimator = GradientBoostingClassifier(
            n_estimators=params.n_estimators,
            learning_rate=params.learning_rate,
            max_depth=params.max_depth,
            random_state=seed,
        )
        return estimator.fit(features, labels)

    def predict_proba(self, estimator: Any, matrix: np.ndarray, threads: int) -> np.ndarray:
        return np.asarray(estimator.predict_proba(matrix)[:, 1], dtype=np.float64)

    def contributions(self, estimator: Any, matrix: np.ndarray, threads: int) -> np.ndarray:
        """Saabas path attributions with the base value last: one sparse product per tree, the rows' decision
        paths times each node's change in value, placed in the column of the feature its parent split on."""
        from scipy import sparse

        rate = float(estimator.learning_rate)
        prior = float(estimator.init_.predict_proba(matrix[:1])[0, 1]) if len(matrix) else 0.5
        base = np.log(prior / (1 - prior))
        width = matrix.shape[1]
        out = np.zeros((len(matrix), width + 1))
        for tree in (item.tree_ for item in estimator.estimators_[:, 0]):
            node_value = tree.value[:, 0, 0]
            parent = np.full(tree.node_count, -1)
            for children in (tree.children_left, tree.children_right):
                inner = np.flatnonzero(children >= 0)
                parent[children[inner]] = inner
            below_root = np.flatnonzero(parent >= 0)
            change = sparse.csr_matrix(
                (
                    node_value[below_root] - node_value[parent[below_root]],
                    (below_root, tree.feature[parent[below_root]]),
                ),
                shape=(tree.node_count, width),
            )
            out[:, :-1] += rate * (tree.decision_path(matrix.astype(np.float32)) @ change).toarray()
            base += rate * node_value[0]
        out[:, -1] = base
        return out

    def save(self, estimator: Any, path: Path) -> None:
        import skops.io  # on use: importing skops loads every scikit-learn estimator (~0.6 s)

        skops.io.dump(estimator, path)

    def load(self, path: Path, contract: Contract | None) -> Any:
        return load_skops(path)

    def inputs(self, estimator: Any) -> tuple[list[str] | None, int]:
        return None, int(estimator.n_features_in_)

    def recognises(self, head: bytes) -> bool:
        return head.startswith(b"PK")


def load_skops(path: Path) -> Any:
    """Load a skops archive, refusing any type outside SKOPS_TRUSTED_TYPES."""
    import skops.io

    untrusted = set(skops.io.get_untrusted_types(file=path)) - set(SKOPS_TRUSTED_TYPES)
    if untrusted:
        raise CreditopsError(f"refusing to load {path}: untrusted types {sorted(untrusted)}")
    return skops.io.load(path, trusted=list(SKOPS_TRUSTED_TYPES))
