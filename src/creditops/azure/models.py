"""What online and batch deployments on Azure ML share: the workspace model of a registry version, the
code folder the scoring scripts run from, specs turned into SDK entities."""

import io
import shutil
import tempfile
from pathlib import Path
from typing import Any

import yaml

import creditops
from creditops.errors import CreditopsError
from creditops.tracking import names


def workspace_model(ml: Any, store_uri: str, model_uri: str) -> tuple[str, str, float, str]:
    """The registry version behind `model_uri` as a workspace model (name, version, threshold,
    `azureml:` reference): the one the workspace's own MLflow registry holds, or the version's MLflow
    model folder registered there with its lineage tags."""
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
    threshold = float(info.tags.get(names.THRESHOLD, 0.5))
    reference = f"azureml:{info.name}:{info.version}"
    if store_uri.startswith("azureml://"):
        return info.name, info.version, threshold, reference
    try:
        existing = ml.models.get(info.name, info.version)
    except ResourceNotFoundError:
        existing = None
    if existing is not None:
        if (existing.tags or {}).get(names.FINGERPRINT) != info.tags.get(names.FINGERPRINT):
            raise CreditopsError(
                f"the workspace's model {info.name}:{info.version} is not this registry's version {info.version}"
                " (another fingerprint): point the environment's tracking_uri at the workspace's MLflow"
                " store, or use another model name"
            )
        return info.name, info.version, threshold, reference
    with tempfile.TemporaryDirectory() as scratch:
        folder = save_model_dir(registry.load(found.uri), Path(scratch) / info.name)
        lineage = {key: info.tags[key] for key in (*names.LINEAGE, names.THRESHOLD) if key in info.tags}
        ml.models.create_or_update(
            Model(name=info.name, version=info.version, path=str(folder), type="custom_model", tags=lineage)
        )
    return info.name, info.version, threshold, reference


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
