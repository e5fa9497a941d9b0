"""Model files in formats that execute no code when loaded.

LightGBM models are stored in LightGBM's own text format: a list of trees and numbers, parsed, never
unpickled. The original scikit-learn GBM is stored with skops, which refuses every type not on an
allow-list; the allow-list lives here in code, never read from the file, and names exactly the types
a fitted GradientBoostingClassifier holds beyond what skops trusts by default.
"""

from pathlib import Path
from typing import Final

import lightgbm as lgb

from creditops.errors import CreditopsError
from creditops.files import atomic_path
from creditops.modelling.estimators import TrainedModel

SKOPS_TRUSTED_TYPES: Final = ("sklearn.tree._tree.Tree",)


def save_model(model: TrainedModel, path: Path) -> Path:
    """Write `model` to `path` atomically (LightGBM text or a skops archive)."""
    with atomic_path(path) as temporary:
        if model.algorithm == "lightgbm":
            model.estimator.save_model(str(temporary))
        else:
            import skops.io  # on use: importing skops loads every scikit-learn estimator (~0.6 s)

            skops.io.dump(model.estimator, temporary)
    return path


def load_model(path: Path, algorithm: str) -> TrainedModel:
    """Read a model file written by save_model for `algorithm`."""
    path = Path(path)
    if not path.is_file():
        raise CreditopsError(f"model file not found: {path}; run the train step first")
    if algorithm == "lightgbm":
        return TrainedModel(algorithm, lgb.Booster(model_file=str(path)))
    return TrainedModel(algorithm, load_skops(path))


def load_skops(path: Path) -> object:
    """Load a skops archive, refusing any type outside SKOPS_TRUSTED_TYPES."""
    import skops.io

    untrusted = set(skops.io.get_untrusted_types(file=path)) - set(SKOPS_TRUSTED_TYPES)
    if untrusted:
        raise CreditopsError(f"refusing to load {path}: untrusted types {sorted(untrusted)}")
    return skops.io.load(path, trusted=list(SKOPS_TRUSTED_TYPES))
