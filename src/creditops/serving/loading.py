"""Load the model a deployment serves, from any MLflow model URI or a local model directory."""

from pathlib import Path

from creditops.serving.model import LoadedModel
from creditops.tracking import names
from creditops.tracking.registry import Registry, locate


def load_for_serving(store_uri: str, model_uri: str) -> LoadedModel:
    """The model behind `model_uri` (`models:/NAME@ALIAS`, `models:/NAME/VERSION`, a model folder)."""
    registry = Registry(store_uri)
    found = locate(registry, model_uri)
    model = registry.load(found.version or found.uri)
    if found.version is None:
        return LoadedModel(model, Path(found.uri).name, "local", model_uri)
    threshold = float(found.version.tags.get(names.THRESHOLD, 0.5))
    return LoadedModel(model, found.version.name, found.version.version, model_uri, threshold)
