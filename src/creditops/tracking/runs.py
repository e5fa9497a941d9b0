"""MLflow runs that the steps log into; a disabled tracker logs nothing and touches no store."""

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import mlflow

from creditops.tracking.store import connect, ensure_experiment, tracking_uri


class Tracker:
    """Logs params, metrics, tags and artifacts to the active MLflow run, when enabled."""

    def __init__(self, enabled: bool, uri: str | None = None) -> None:
        self.enabled = enabled
        self.uri = uri or tracking_uri()

    @contextmanager
    def run(self, name: str) -> Iterator[str | None]:
        """Join the active run, or start one named `name` (resuming $MLFLOW_RUN_ID when set).

        Yields the run id (None when disabled); a run that raises ends as FAILED.
        """
        if not self.enabled:
            yield None
            return
        active = mlflow.active_run()
        if active is not None:
            yield active.info.run_id
            return
        connect(self.uri)
        experiment_id = ensure_experiment(self.uri)
        with mlflow.start_run(experiment_id=experiment_id, run_name=name) as started:
            yield started.info.run_id

    def params(self, values: Mapping[str, Any]) -> None:
        if self.enabled:
            mlflow.log_params(dict(values))

    def metrics(self, values: Mapping[str, float]) -> None:
        if self.enabled:
            mlflow.log_metrics({key: float(value) for key, value in values.items()})

    def tags(self, values: Mapping[str, Any]) -> None:
        if self.enabled:
            mlflow.set_tags({key: str(value) for key, value in values.items()})

    def artifacts(self, paths: list[Path], folder: str | None = None) -> None:
        if self.enabled:
            for path in paths:
                mlflow.log_artifact(str(path), artifact_path=folder)


def flatten(values: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested mappings as one level with dotted keys (for params and tags)."""
    flat: dict[str, Any] = {}
    for key, value in values.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(flatten(value, f"{name}."))
        else:
            flat[name] = value
    return flat
