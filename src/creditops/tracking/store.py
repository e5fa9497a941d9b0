"""An MLflow store by its URI: where a SQLite store's file is, whether it exists, its experiment."""

from pathlib import Path
from urllib.parse import unquote

import mlflow
from mlflow.exceptions import MlflowException

from creditops.files import exclusive_lock

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


_READY: set[str] = set()
"""The SQLite stores this process has seen whole (schema created and migrated)."""


def connect(uri: str) -> str:
    """Point MLflow's tracking and registry at `uri`; a SQLite store is created whole first.

    MLflow creates and migrates a new SQLite store on first use, and two processes doing that at once
    break it (the second dies in alembic's migrations): the first use per process happens under a file
    lock beside the database, so one process migrates and the others find it done.
    """
    path = sqlite_path(uri)
    if path is not None and uri not in _READY:
        with exclusive_lock(lock_path(uri, "store")):
            client = mlflow.MlflowClient(uri, uri)
            client.search_experiments(max_results=1)
            client.search_registered_models(max_results=1)
        _READY.add(uri)
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    return uri


def lock_path(uri: str, purpose: str) -> Path:
    """Where the lock file for `purpose` on an embedded SQLite store lives (beside its database)."""
    path = sqlite_path(uri)
    if path is None:
        raise ValueError(f"{uri} is not an embedded SQLite store: it has no lock files")
    return path.parent / "locks" / f"{purpose}.lock"


def ensure_experiment(uri: str) -> str:
    """The id of the creditops experiment, created with its artifacts beside a SQLite store."""
    client = mlflow.MlflowClient(uri, uri)
    experiment = client.get_experiment_by_name(EXPERIMENT_NAME)
    if experiment is not None:
        return experiment.experiment_id
    path = sqlite_path(uri)
    location = (path.parent / "artifacts").as_uri() if path is not None else None
    try:
        return client.create_experiment(EXPERIMENT_NAME, artifact_location=location)
    except MlflowException:  # another process created it first
        again = client.get_experiment_by_name(EXPERIMENT_NAME)
        if again is None:
            raise
        return again.experiment_id
