"""Model files in formats that execute no code when loaded.

Each learner writes its own safe format (LightGBM text, a skops archive with an allow-list, XGBoost JSON,
a JSON points table; see modelling/learners/). A file is recognised by its first bytes, so the model file
of any learner reads back under the config's one file name.
"""

import warnings
from pathlib import Path
from typing import Final

from creditops.data.contract import Contract, legacy_uci
from creditops.errors import CreditopsError
from creditops.files import atomic_path
from creditops.modelling.estimators import TrainedModel
from creditops.modelling.learners import LEARNERS

_HEAD: Final = 64
"""Bytes read to recognise a model file."""


def save_model(model: TrainedModel, path: Path) -> Path:
    """Write `model` to `path` atomically, in its learner's format."""
    with atomic_path(path) as temporary:
        model.learner.save(model.estimator, temporary)
    return path


def load_model(path: Path, contract: Contract, *, allow_pickle: bool = False) -> TrainedModel:
    """Read a model file trained under `contract`, recognised by its content: any learner's format, or
    (opt-in) a pickle, which is a model of the original project (its 23 UCI columns).

    A pickle is what the original train step wrote; loading one runs whatever code it names, so it is
    refused unless the caller opted in (MLflow's own MLFLOW_ALLOW_PICKLE_DESERIALIZATION, or --allow-pickle).
    """
    path = Path(path)
    if not path.is_file():
        raise CreditopsError(f"model file not found: {path}; run the train step first")
    with path.open("rb") as stream:
        head = stream.read(_HEAD)
    if head.startswith(_PICKLE_PROTOCOL):
        return _load_pickle(path, allow_pickle)
    for learner in LEARNERS.values():
        if learner.recognises(head):
            return TrainedModel(learner.name, learner.load(path, contract), contract)
    raise CreditopsError(
        f"{path} is not a model file of any learner ({', '.join(LEARNERS)}): it is damaged or not a model;"
        " run the train step again"
    )


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
