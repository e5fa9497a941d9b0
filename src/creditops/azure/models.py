"""What online and batch deployments on Azure ML share: the workspace model of a registry version, the
code folder the scoring scripts run from, specs turned into SDK entities."""

import io
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

import creditops
from creditops.errors import CreditopsError
from creditops.tracking import names


@dataclass(frozen=True)
class WorkspaceModel:
    """A registry version as Azure ML knows it."""

    name: str
    version: str
    threshold: float
    reference: str
    """`azureml:NAME:VERSION`, what a deployment names."""
    fingerprint: str


def workspace_model(ml: Any, store_uri: str, model_uri: str) -> WorkspaceModel:
    """The registry version behind `model_uri` as a workspace model: the one the workspace's own MLflow
    registry holds, or the version's MLflow model folder registered there with its lineage tags."""
    from azure.ai.ml.entities import Model
    from azure.core.exceptions import ResourceNotFoundError

    from creditops.tracking.registry import Registry, locate, save_model_dir

    registry = Registry(store_uri)
    found = locate(registry, model_uri)
    if found.version is None:
        raise CreditopsError(
            f"{model_uri} is a model folder: Azure ML deploys registered versions (models:/NAME/VERSION)"
        )
    info = found.version
    fingerprint = info.tags.get(names.FINGERPRINT, "")
    found_model = WorkspaceModel(
        info.name,
        info.version,
        float(info.tags.get(names.THRESHOLD, 0.5)),
        f"azureml:{info.name}:{info.version}",
        fingerprint,
    )
    if store_uri.startswith("azureml://"):
        return found_model
    try:
        existing = ml.models.get(info.name, info.version)
    except ResourceNotFoundError:
        existing = None
    if existing is not None:
        if (existing.tags or {}).get(names.FINGERPRINT) != fingerprint:
            raise CreditopsError(
                f"the workspace's model {info.name}:{info.version} is not this registry's version {info.version}"
                " (another fingerprint): point the environment's tracking_uri at the workspace's MLflow"
                " store, or use another model name"
            )
        return found_model
    with tempfile.TemporaryDirectory() as scratch:
        folder = save_model_dir(registry.load(found.version or found.uri), Path(scratch) / info.name)
        lineage = {key: info.tags[key] for key in (*names.LINEAGE, names.THRESHOLD) if key in info.tags}
        ml.models.create_or_update(
            Model(name=info.name, version=info.version, path=str(folder), type="custom_model", tags=lineage)
        )
    return found_model


def package_copy(scratch: Path) -> Path:
    """A deployment's code folder: this creditops package alone (its scoring scripts import it)."""
    code = scratch / "code"
    shutil.copytree(
        Path(creditops.__file__).parent, code / "creditops", ignore=shutil.ignore_patterns("__pycache__", "*.pyc")
    )
    return code


def spec_stream(spec: dict[str, Any]) -> io.StringIO:
    """A spec as the YAML stream the SDK's `load_*` functions validate against their schema."""
    return io.StringIO(yaml.safe_dump({key: value for key, value in spec.items() if key != "$schema"}))
