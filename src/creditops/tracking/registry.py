"""The MLflow model registry: log and register models with lineage, aliases, champion lookup, loading.

Models go into MLflow in formats that run no code on load (see modelling/serialization.py): the
LightGBM flavor with the native text model, or the scikit-learn flavor with skops and the explicit
allow-list. Loading reads the flavor and uses the same safe loaders, so it needs no opt-in to
unpickling.
"""

import contextlib
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

import lightgbm as lgb
import mlflow
import numpy as np
from mlflow.exceptions import MlflowException
from mlflow.models import Model, ModelSignature
from mlflow.types import ColSpec, Schema, TensorSpec

from creditops.data.schema import FEATURES
from creditops.errors import CreditopsError
from creditops.files import atomic_path
from creditops.modelling.estimators import TrainedModel
from creditops.modelling.serialization import SKOPS_TRUSTED_TYPES, load_skops
from creditops.tracking.store import connect, store_exists

CHAMPION: Final = "champion"
CHALLENGER: Final = "challenger"
PREVIOUS_CHAMPION: Final = "previous-champion"
FINGERPRINT_TAG: Final = "creditops.fingerprint"
THRESHOLD_TAG: Final = "threshold"
ARTIFACT_NAME: Final = "model"


@dataclass(frozen=True)
class VersionInfo:
    """One registered model version, with its aliases and tags."""

    name: str
    version: str
    aliases: tuple[str, ...]
    tags: dict[str, str] = field(default_factory=dict)
    run_id: str | None = None
    created_ms: int = 0

    @property
    def uri(self) -> str:
        return f"models:/{self.name}/{self.version}"


def signature() -> ModelSignature:
    """Inputs: the 23 features as integers; output: the probability of default (LightGBM pyfunc)."""
    inputs = Schema([ColSpec("long", name) for name in FEATURES])
    outputs = Schema([TensorSpec(np.dtype("float64"), (-1,))])
    return ModelSignature(inputs=inputs, outputs=outputs)


def save_model_dir(model: TrainedModel, target: Path) -> Path:
    """Write an MLflow model directory at `target` atomically (replacing an older one)."""
    with atomic_path(target) as temporary:
        _flavor_call(model, "save_model", path=str(temporary))
    return target


def log_model(model: TrainedModel) -> str:
    """Log `model` to the active run; returns its model URI."""
    return _flavor_call(model, "log_model", name=ARTIFACT_NAME).model_uri


def _flavor_call(model: TrainedModel, function: str, **where: str):
    common = {"signature": signature(), **where}
    if model.algorithm == "lightgbm":
        requirements = [f"lightgbm=={lgb.__version__}"]
        return getattr(mlflow.lightgbm, function)(model.estimator, pip_requirements=requirements, **common)
    import sklearn
    import skops

    requirements = [f"scikit-learn=={sklearn.__version__}", f"skops=={skops.__version__}"]
    return getattr(mlflow.sklearn, function)(
        model.estimator,
        serialization_format="skops",
        skops_trusted_types=list(SKOPS_TRUSTED_TYPES),
        pip_requirements=requirements,
        **common,
    )


def register(model_uri: str, name: str, tags: dict[str, str]) -> VersionInfo:
    """Create a new version of `name` with all its tags in one call: complete, or absent."""
    version = mlflow.register_model(model_uri, name, tags={k: str(v) for k, v in tags.items()})
    return describe(name, str(version.version))


def set_alias(name: str, alias: str, version: str) -> None:
    mlflow.MlflowClient().set_registered_model_alias(name, alias, version)


def set_tags(name: str, version: str, tags: dict[str, str]) -> None:
    client = mlflow.MlflowClient()
    for key, value in tags.items():
        client.set_model_version_tag(name, version, key, str(value))


def attach_artifact(uri: str, run_id: str, path: Path, folder: str) -> None:
    """Add a file to a run's artifacts (e.g. the gate evidence of the version it produced)."""
    mlflow.MlflowClient(uri, uri).log_artifact(run_id, str(path), folder)


def run_artifacts(uri: str, run_id: str, folder: str) -> list[Path]:
    """Local copies of the files in a run's artifact folder; empty when there is none."""
    connect(uri)
    scratch = Path(tempfile.mkdtemp(prefix="creditops-artifacts-"))
    try:
        local = mlflow.artifacts.download_artifacts(run_id=run_id, artifact_path=folder, dst_path=str(scratch))
    except (MlflowException, OSError):
        return []
    return sorted(path for path in Path(local).rglob("*") if path.is_file())


def delete_alias(name: str, alias: str) -> None:
    with contextlib.suppress(MlflowException):
        mlflow.MlflowClient().delete_registered_model_alias(name, alias)


def describe(name: str, version: str) -> VersionInfo:
    found = mlflow.MlflowClient().get_model_version(name, version)
    return _info(found)


def versions(uri: str, name: str) -> list[VersionInfo]:
    """All versions of `name`, newest first; empty when the store or the model does not exist."""
    if not store_exists(uri):
        return []
    connect(uri)
    client = mlflow.MlflowClient()
    try:
        found = client.search_model_versions(f"name = '{_quoted(name)}'")
    except MlflowException:
        return []
    aliases = _aliases(client, name)
    infos = [_info(item, aliases.get(str(item.version), ())) for item in found]
    return sorted(infos, key=lambda info: int(info.version), reverse=True)


def registered_names(uri: str) -> list[str]:
    if not store_exists(uri):
        return []
    connect(uri)
    return sorted(model.name for model in mlflow.MlflowClient().search_registered_models())


def champion(uri: str, name: str) -> VersionInfo | None:
    """The version with alias `champion`; where none, the latest registered version (as the seed)."""
    found = versions(uri, name)
    for info in found:
        if CHAMPION in info.aliases:
            return info
    return found[0] if found else None


def resolve(uri: str, reference: str) -> VersionInfo:
    """A version from `NAME`, `NAME@ALIAS`, `NAME/VERSION` or `models:/…` of those."""
    text = reference.removeprefix("models:/")
    if "@" in text:
        name, alias = text.split("@", 1)
        match = [info for info in versions(uri, name) if alias in info.aliases]
        missing = f"model {name!r} has no version with alias {alias!r}"
    elif "/" in text:
        name, number = text.split("/", 1)
        match = [info for info in versions(uri, name) if info.version == number]
        missing = f"model {name!r} has no version {number}"
    else:
        name = text
        match = versions(uri, name)[:1]
        missing = f"no registered model named {name!r} in {uri}"
    if not match:
        raise CreditopsError(missing)
    return match[0]


def find_by_fingerprint(uri: str, name: str, fingerprint: str) -> VersionInfo | None:
    for info in versions(uri, name):
        if info.tags.get(FINGERPRINT_TAG) == fingerprint:
            return info
    return None


def load(uri: str, model_uri: str) -> TrainedModel:
    """Load a model from any MLflow model URI or local MLflow model directory, safely."""
    if model_uri.startswith("models:/"):
        connect(uri)
    local = Path(model_uri)
    if local.is_dir():
        return _load_model_dir(local)
    with tempfile.TemporaryDirectory(prefix="creditops-model-") as scratch:
        try:
            path = mlflow.artifacts.download_artifacts(artifact_uri=model_uri, dst_path=scratch)
        except MlflowException as error:
            raise CreditopsError(f"cannot load model {model_uri}: {error.message}") from error
        return _load_model_dir(Path(path))


def _load_model_dir(path: Path) -> TrainedModel:
    if not (path / "MLmodel").is_file():
        raise CreditopsError(f"not an MLflow model directory (no MLmodel file): {path}")
    flavors = Model.load(str(path / "MLmodel")).flavors
    if "lightgbm" in flavors:
        data = flavors["lightgbm"]["data"]
        return TrainedModel("lightgbm", lgb.Booster(model_file=str(path / data)))
    sklearn_flavor = flavors.get("sklearn", {})
    if sklearn_flavor.get("serialization_format") == "skops":
        return TrainedModel("sklearn_gbm", load_skops(path / sklearn_flavor["pickled_model"]))
    raise CreditopsError(f"unsupported model at {path}: creditops loads LightGBM text models and skops GBMs only")


def _aliases(client: mlflow.MlflowClient, name: str) -> dict[str, tuple[str, ...]]:
    try:
        model = client.get_registered_model(name)
    except MlflowException:
        return {}
    by_version: dict[str, list[str]] = {}
    for alias, version in model.aliases.items():
        by_version.setdefault(str(version), []).append(alias)
    return {version: tuple(sorted(names)) for version, names in by_version.items()}


def _info(item, aliases: tuple[str, ...] | None = None) -> VersionInfo:
    return VersionInfo(
        name=item.name,
        version=str(item.version),
        aliases=tuple(aliases if aliases is not None else getattr(item, "aliases", ()) or ()),
        tags=dict(item.tags or {}),
        run_id=item.run_id,
        created_ms=int(item.creation_timestamp or 0),
    )


def _quoted(name: str) -> str:
    return name.replace("'", "\\'")
