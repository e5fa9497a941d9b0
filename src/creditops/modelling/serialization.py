"""Model files in formats that execute no code when loaded.

LightGBM models are stored in LightGBM's own text format: a list of trees and numbers, parsed, never
unpickled. The original scikit-learn GBM is stored with skops, which refuses every type not on an
allow-list; the allow-list lives here in code, never read from the file, and names exactly the types
a fitted GradientBoostingClassifier holds beyond what skops trusts by default.
"""

import warnings
from pathlib import Path
from typing import Final

from creditops.data.contract import Contract, legacy_uci
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


def load_model(path: Path, contract: Contract, *, allow_pickle: bool = False) -> TrainedModel:
    """Read a model file trained under `contract`, recognised by its content: LightGBM text, a skops archive,
    or (opt-in) a pickle, which is a model of the original project (its 23 UCI columns).

    A pickle is what the original train step wrote; loading one runs whatever code it names, so it is
    refused unless the caller opted in (MLflow's own MLFLOW_ALLOW_PICKLE_DESERIALIZATION, or --allow-pickle).
    """
    path = Path(path)
    if not path.is_file():
        raise CreditopsError(f"model file not found: {path}; run the train step first")
    with path.open("rb") as stream:
        head = stream.read(4)
    if head.startswith(b"PK"):
        return TrainedModel("sklearn_gbm", load_skops(path), contract)
    if head.startswith(_PICKLE_PROTOCOL):
        return _load_pickle(path, allow_pickle)
    from creditops.modelling.lightgbm_text import read_booster

    return TrainedModel("lightgbm", read_booster(path), contract)


_PICKLE_PROTOCOL: Final = b"\x80"


def _load_pickle(path: Path, allowed: bool) -> TrainedModel:
    if not allowed:
        raise CreditopsError(
            f"{path} is a pickle, and loading a pickle runs the code it names: if you trust its origin, set "
            "MLFLOW_ALLOW_PICKLE_DESERIALIZATION=true or pass --allow-pickle"
        )
    estimator = _unpickled(path)
    if not hasattr(estimator, "predict_proba"):
        raise CreditopsError(f"{path} holds a {type(estimator).__name__}, not a classifier with predict_proba")
    warnings.warn(f"loaded the pickle {path} (opted in): creditops saves its own models in safe formats", stacklevel=2)
    return TrainedModel("sklearn_gbm", estimator, legacy_uci())


def _unpickled(path: Path) -> object:
    """The object a pickle holds (joblib's format, which the original train step wrote, or a plain pickle).

    Only behind the opt-in: the person opted in, knowingly. Unpickling runs the reconstruction code of every
    class the file names, so a pickle from another scikit-learn (the original project's model.pkl is from
    0.24.2) fails with whatever that code raises: every failure is the same one line, retrain."""
    import joblib

    try:
        return joblib.load(path)
    except Exception as error:
        import sklearn

        cause = " ".join(f"{type(error).__name__}: {error}".split())[:200]
        raise CreditopsError(
            f"{path} is a pickle that this scikit-learn ({sklearn.__version__}) cannot load ({cause}): it was"
            " written by another scikit-learn (e.g. the original project's 0.24.2 model.pkl) or is damaged;"
            " retrain it with 'creditops run'"
        ) from error


def load_skops(path: Path) -> object:
    """Load a skops archive, refusing any type outside SKOPS_TRUSTED_TYPES."""
    import skops.io

    untrusted = set(skops.io.get_untrusted_types(file=path)) - set(SKOPS_TRUSTED_TYPES)
    if untrusted:
        raise CreditopsError(f"refusing to load {path}: untrusted types {sorted(untrusted)}")
    return skops.io.load(path, trusted=list(SKOPS_TRUSTED_TYPES))
