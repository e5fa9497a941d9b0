"""Runs and the registry under concurrency and crashes: two processes at once, a kill between register and
promote, and runs left RUNNING by a process that died."""

import os
import socket
import subprocess
import sys
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest

from creditops import pipeline
from creditops.config.modelling import ModellingConfig
from creditops.context import Context
from creditops.data.contract import uci
from creditops.data.io import write_table
from creditops.data.synth import synthesize
from creditops.files import sha256_file
from creditops.pipeline import run_pipeline
from creditops.tracking import names
from creditops.tracking.registry import Registry
from creditops.tracking.store import connect, ensure_experiment

pytestmark = pytest.mark.e2e
CONFIG = ModellingConfig.model_validate({"train": {"n_estimators": 20}, "eval": {"tolerance": 1.0}})


def _run_at_once(workspace: Path, data: list[Path]) -> list[subprocess.CompletedProcess[str]]:
    env = {**os.environ, "CREDITOPS_WORKSPACE": str(workspace)}
    env.pop("MLFLOW_TRACKING_URI", None)
    started = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "creditops",
                "run",
                "--data",
                str(path),
                "--config",
                str(workspace.parent / "c.json"),
            ],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for path in data
    ]
    finished = []
    for process in started:
        out, err = process.communicate(timeout=240)
        finished.append(subprocess.CompletedProcess(process.args, process.returncode, out, err))
    return finished


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    path = tmp_path / "c.json"
    path.write_text(CONFIG.model_dump_json())
    return path


def test_two_runs_of_different_data_at_once_on_a_new_store_register_each_its_own_model(
    tmp_path: Path, config_file: Path
) -> None:
    first = write_table(synthesize(1_500, 21), tmp_path / "first.csv")
    second = write_table(synthesize(1_500, 22), tmp_path / "second.csv")
    workspace = tmp_path / "workspace"
    results = _run_at_once(workspace, [first, second])
    assert [result.returncode for result in results] == [0, 0], [result.stderr[-2000:] for result in results]
    versions = Registry(f"sqlite:///{workspace / 'mlflow.db'}").versions("credit_default_model")
    assert len(versions) == 2
    assert {info.tags[names.DATA_FILE] for info in versions} == {str(first), str(second)}
    for info in versions:  # each version says which data it saw, truly
        assert info.tags[names.DATA_SHA256] == sha256_file(Path(info.tags[names.DATA_FILE]))
    registry = Registry(f"sqlite:///{workspace / 'mlflow.db'}")
    rows = uci().feature_matrix(pd.read_csv(first).head(200))
    one, other = (registry.load(info.uri).predict_proba(rows) for info in versions)
    assert not np.allclose(one, other)  # two models, not the same one registered twice


def test_two_identical_runs_at_once_register_one_version(tmp_path: Path, config_file: Path) -> None:
    data = write_table(synthesize(1_500, 23), tmp_path / "same.csv")
    workspace = tmp_path / "workspace"
    results = _run_at_once(workspace, [data, data])
    assert [result.returncode for result in results] == [0, 0], [result.stderr[-2000:] for result in results]
    versions = Registry(f"sqlite:///{workspace / 'mlflow.db'}").versions("credit_default_model")
    assert [info.version for info in versions] == ["1"]


def test_a_run_killed_between_register_and_promote_is_finished_by_the_next(
    context: Context, data_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run_pipeline(data_file, ModellingConfig.model_validate({"train": {"n_estimators": 2}}), context)

    def killed(*args: object) -> None:
        raise KeyboardInterrupt

    with monkeypatch.context() as patch:
        patch.setattr(pipeline, "_promote", killed)
        with pytest.raises(KeyboardInterrupt):
            run_pipeline(data_file, CONFIG, context)
    registry = Registry(context.store_uri)
    assert registry.champion("credit_default_model").version == "1"
    again = run_pipeline(data_file, CONFIG, context)
    assert again.champion_version == "2"
    assert "promoted now" in again.registration.reason
    assert len(registry.versions("credit_default_model")) == 2
    # and nothing more happens the time after
    third = run_pipeline(data_file, CONFIG, context)
    assert "promoted now" not in third.registration.reason


def test_runs_left_running_by_a_dead_process_are_ended_as_killed(context: Context, data_file: Path) -> None:
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    connect(context.store_uri)
    client = mlflow.MlflowClient(context.store_uri, context.store_uri)
    experiment = ensure_experiment(context.store_uri)
    host = socket.gethostname()
    orphan = client.create_run(experiment, tags={names.OWNER_PID: str(gone.pid), names.OWNER_HOST: host})
    alive = client.create_run(experiment, tags={names.OWNER_PID: str(os.getpid()), names.OWNER_HOST: host})
    elsewhere = client.create_run(experiment, tags={names.OWNER_PID: str(gone.pid), names.OWNER_HOST: "another-host"})
    run_pipeline(data_file, CONFIG, context)
    assert client.get_run(orphan.info.run_id).info.status == "KILLED"
    assert client.get_run(alive.info.run_id).info.status == "RUNNING"
    assert client.get_run(elsewhere.info.run_id).info.status == "RUNNING"
