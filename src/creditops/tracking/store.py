"""An MLflow store by its URI: where a SQLite store's file is, whether it exists, its experiment."""

import os
import sqlite3
import tempfile
import time
from contextlib import closing
from pathlib import Path
from urllib.parse import unquote

import mlflow
import platformdirs
from mlflow.exceptions import MlflowException

from creditops.files import atomic_path, exclusive_lock

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
    lock beside the database, so one process creates it and the others find it done. A new store is a copy
    of an empty one this MLflow version migrated once (see `_create`).
    """
    path = sqlite_path(uri)
    if path is not None and uri not in _READY:
        with exclusive_lock(lock_path(uri, "store")):
            if not path.exists():
                _create(path)
            client = mlflow.MlflowClient(uri, uri)
            client.search_experiments(max_results=1)
            client.search_registered_models(max_results=1)
        _READY.add(uri)
    started_with = os.environ.get(TRACKING_VARIABLE)
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    # MLflow also writes the URI into this process's environment, for child processes to inherit. creditops
    # hands its children their context itself (Context.child_environ), and a context built later in this
    # process (`status` reads every environment) must see the variables the process was started with.
    if started_with is None:
        os.environ.pop(TRACKING_VARIABLE, None)
    else:
        os.environ[TRACKING_VARIABLE] = started_with
    return uri


TRACKING_VARIABLE = "MLFLOW_TRACKING_URI"


def open_if_exists(uri: str) -> None:
    """`connect` to an existing store (its modules imported, its file opened); a new one is left for the
    caller to create, so a command that fails before it logs writes nothing. For `prefetched`."""
    if store_exists(uri):
        connect(uri)


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


def _create(path: Path) -> None:
    """A new SQLite store at `path`, copied from an empty store this MLflow version migrated once (a
    migration takes about a second, a copy milliseconds), with its Default experiment's artifact folder and
    times set as MLflow sets them when it creates a store here. Where no template can be kept (an unwritable
    cache), MLflow creates the store itself."""
    try:
        template = _template()
    except OSError:
        return
    now = int(time.time() * 1000)
    with atomic_path(path) as temporary:
        _copy(template, temporary)
        with closing(sqlite3.connect(temporary)) as db, db:
            db.execute(
                "UPDATE experiments SET artifact_location = ?, creation_time = ?, last_update_time = ?"
                " WHERE experiment_id = 0",
                (os.path.join(os.path.abspath(DEFAULT_ARTIFACTS), "0"), now, now),
            )


DEFAULT_ARTIFACTS = "mlruns"
"""Where MLflow puts the Default experiment's artifacts of a SQLite store it creates: ./mlruns of the
process that created it."""


def _template() -> Path:
    """The empty, migrated store of this MLflow version in the user's cache, made once (atomically, so
    processes making it at the same time each finish with a whole one)."""
    template = platformdirs.user_cache_path("creditops") / f"mlflow-{mlflow.__version__}-empty.db"
    if template.is_file():
        return template
    template.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=template.parent) as scratch:
        made = Path(scratch) / "mlflow.db"
        client = mlflow.MlflowClient(f"sqlite:///{made}", f"sqlite:///{made}")
        client.search_experiments(max_results=1)
        client.search_registered_models(max_results=1)
        with atomic_path(template) as temporary:
            _copy(made, temporary)
    return template


def _copy(source: Path, target: Path) -> None:
    """A consistent copy of the SQLite database `source` (through SQLite's backup, not the file's bytes)."""
    with closing(sqlite3.connect(source)) as read, closing(sqlite3.connect(target)) as written:
        read.backup(written)
