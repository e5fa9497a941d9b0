"""creditops' own MLflow flavor, for learners MLflow has no safe flavor for (XGBoost, the scorecard).

The folder is an ordinary MLflow model: its pyfunc reads the learner's own file (JSON, never a pickle)
through the loader module its writer names, so `mlflow.pyfunc.load_model(folder).predict(frame)` answers
the probability of default. MLmodel also carries a `creditops` flavor naming the learner and its file, and
the data contract lies in `extra_files/` as with MLflow's own flavors. This module has the `save_model` an
MLflow flavor has, so `Model.log` can log it to a run like any other.
"""

import shutil
import sys
import warnings
from pathlib import Path
from typing import Any, Final

from creditops.files import scratch_dir
from creditops.modelling.estimators import TrainedModel

FLAVOR: Final = "creditops"
DATA: Final = "data"
"""The flavor's entry that names the model file, as in MLflow's flavors."""


def save_model(
    path: str,
    mlflow_model: Any = None,
    *,
    model: TrainedModel,
    loader_module: str,
    signature: Any,
    extra_files: list[str],
    pip_requirements: list[str],
) -> None:
    """Write `model` as an MLflow model folder at `path`, its pyfunc loaded by `loader_module`."""
    import mlflow
    from mlflow.models import Model

    mlflow_model = mlflow_model if mlflow_model is not None else Model()
    learner = model.learner
    with scratch_dir("creditops-flavor-") as scratch, warnings.catch_warnings():
        data = scratch / learner.file_name
        learner.save(model.estimator, data)
        # The signature says what the model takes; an input example would add a file and say nothing more.
        warnings.filterwarnings("ignore", message=".*input example was not provided", category=UserWarning)
        mlflow.pyfunc.save_model(
            path,
            loader_module=loader_module,
            data_path=str(data),
            mlflow_model=mlflow_model,
            signature=signature,
            pip_requirements=pip_requirements,
        )
    extra = Path(path) / "extra_files"
    extra.mkdir()
    for file in map(Path, extra_files):
        shutil.copyfile(file, extra / file.name)
    mlflow_model.add_flavor(
        FLAVOR,
        learner=learner.name,
        **{DATA: f"data/{learner.file_name}"},
        extra_files=[{"path": f"extra_files/{Path(file).name}"} for file in extra_files],
    )
    mlflow_model.save(str(Path(path) / "MLmodel"))


def log_model(name: str, **kwargs: Any) -> Any:
    """Log the model folder `save_model` writes to the active run, as MLflow's flavors do."""
    from mlflow.models import Model

    return Model.log(artifact_path=None, name=name, flavor=sys.modules[__name__], flavor_name=FLAVOR, **kwargs)
