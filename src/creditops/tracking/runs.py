"""MLflow runs that the steps log into; a disabled tracker logs nothing and touches no store."""

import os
import socket
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import mlflow
from mlflow.entities import Metric, Param, RunTag

from creditops.files import process_exists
from creditops.tracking import names
from creditops.tracking.store import connect, ensure_experiment


@dataclass(frozen=True)
class RunLog:
    """What a step has to log: the steps return it, their callers log it into a run."""

    params: Mapping[str, Any] = field(default_factory=dict)
    metrics: Mapping[str, float] = field(default_factory=dict)
    tags: Mapping[str, Any] = field(default_factory=dict)
    artifacts: tuple[Path, ...] = ()
    artifact_folder: str | None = None


class Tracker:
    """Logs what the steps return (RunLog) into MLflow runs, when enabled."""

    def __init__(self, enabled: bool, uri: str) -> None:
        self.enabled = enabled
        self.uri = uri

    def _open(self) -> str:
        connect(self.uri)
        return ensure_experiment(self.uri)

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
        experiment_id = self._open()
        mark_dead_runs_killed(self.uri, experiment_id)
        owner = {names.OWNER_PID: str(os.getpid()), names.OWNER_HOST: socket.gethostname()}
        with mlflow.start_run(experiment_id=experiment_id, run_name=name, tags=owner) as started:
            yield started.info.run_id

    def record(self, log: RunLog) -> None:
        """Log everything a step returned into the active run: one batch, then the artifacts."""
        if not self.enabled:
            return
        run = mlflow.active_run()
        if run is None:
            raise RuntimeError("Tracker.record needs an active run: call it inside Tracker.run()")
        now = int(time.time() * 1000)
        mlflow.MlflowClient(self.uri, self.uri).log_batch(
            run.info.run_id,
            metrics=[Metric(key, float(value), now, 0) for key, value in log.metrics.items()],
            params=[Param(key, str(value)) for key, value in log.params.items()],
            tags=[RunTag(key, str(value)) for key, value in log.tags.items()],
            synchronous=True,
        )
        self.artifacts(list(log.artifacts), folder=log.artifact_folder)

    def artifacts(self, paths: list[Path], folder: str | None = None) -> None:
        if self.enabled:
            for path in paths:
                mlflow.log_artifact(str(path), artifact_path=folder)


def mark_dead_runs_killed(uri: str, experiment_id: str) -> list[str]:
    """End as KILLED the runs still RUNNING whose process, on this machine, is gone (kill -9, power loss).

    Runs started on other machines are left alone: whether their process lives cannot be told from here.
    """
    client = mlflow.MlflowClient(uri, uri)
    ended = []
    for run in client.search_runs([experiment_id], "attributes.status = 'RUNNING'", max_results=200):
        if owner_is_gone(run.data.tags):
            client.set_terminated(run.info.run_id, "KILLED")
            ended.append(run.info.run_id)
    return ended


def owner_is_gone(tags: Mapping[str, str]) -> bool:
    """Whether the run with these tags was started on this machine by a process that no longer exists.

    False when it cannot be told: no owner tags, or another machine's run.
    """
    owner = tags.get(names.OWNER_PID, "")
    return tags.get(names.OWNER_HOST) == socket.gethostname() and owner.isdigit() and not process_exists(int(owner))


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
