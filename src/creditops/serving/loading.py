"""Load the model a deployment serves, from any MLflow model URI or a local model directory."""

from pathlib import Path

from creditops.errors import CreditopsError
from creditops.serving.app import LoadedModel
from creditops.tracking import registry


def load_for_serving(store_uri: str, model_uri: str) -> LoadedModel:
    """The model behind `model_uri` (`models:/NAME@ALIAS`, `models:/NAME/VERSION`, a model folder)."""
    if model_uri.startswith("models:/"):
        version = registry.resolve(store_uri, model_uri)
        model = registry.load(store_uri, version.uri)
        threshold = float(version.tags.get(registry.THRESHOLD_TAG, 0.5))
        return LoadedModel(model, version.name, version.version, model_uri, threshold)
    path = Path(model_uri)
    if not path.exists():
        raise CreditopsError(f"no model at {model_uri}: use models:/NAME@ALIAS, models:/NAME/VERSION or a model folder")
    return LoadedModel(registry.load(store_uri, str(path)), path.resolve().name, "local", model_uri)
