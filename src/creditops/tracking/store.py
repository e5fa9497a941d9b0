"""An MLflow store by its URI: where a SQLite store's file is, whether it exists, its experiment."""

from pathlib import Path
from urllib.parse import unquote

import mlflow

EXPERIMENT_NAME = "creditops"


def sqlite_path(uri: str) -> Path | None:
    """The database file of a `sqlite:///` URI, None for any other store."""
    prefix = "sqlite:///"
    if not uri.startswith(prefix):
        return None
    return Path(unquote(uri.removeprefix(prefix).split("?", 1)[0]))


def store_exists(uri: str) -> bool:
    """False only for an embedded SQLite store whose file was never created (so nothing to read)."""
    path = sqlite_path(uri)
    return path is None or path.is_file()


def connect(uri: str) -> str:
    """Point MLflow's tracking and registry at `uri`, creating the SQLite file's folder if needed."""
    path = sqlite_path(uri)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    return uri


def ensure_experiment(uri: str) -> str:
    """The id of the creditops experiment, created with its artifacts beside a SQLite store."""
    client = mlflow.MlflowClient(uri, uri)
    experiment = client.get_experiment_by_name(EXPERIMENT_NAME)
    if experiment is not None:
        return experiment.experiment_id
    path = sqlite_path(uri)
    location = (path.parent / "artifacts").as_uri() if path is not None else None
    return client.create_experiment(EXPERIMENT_NAME, artifact_location=location)
