"""A throwaway project: the repository's configs with small environments on free ports."""

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from creditops.context import from_process
from creditops.endpoints import manager, processes, state

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A project folder with small environments on free ports; every endpoint deleted afterwards."""
    (tmp_path / "config" / "environments").mkdir(parents=True)
    shutil.copy(REPO / "config" / "modelling.json", tmp_path / "config" / "modelling.json")
    for name in ("dev", "staging", "prod"):
        settings = yaml.safe_load((REPO / "config" / "environments" / f"{name}.yaml").read_text())
        settings["data"]["rows"] = 2_500
        settings["endpoint"]["port"] = processes.free_port()
        settings["gate"]["min_roc_auc"] = 0.6
        settings["gate"]["bootstrap_samples"] = 100
        settings["gate"]["max_roc_auc_drop"] = 0.05  # small data: let a slightly different model through
        settings["gate"]["slice_tolerance"] = 0.2
        (tmp_path / "config" / "environments" / f"{name}.yaml").write_text(yaml.safe_dump(settings))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CREDITOPS_HOME", str(tmp_path / ".creditops"))
    monkeypatch.delenv("CREDITOPS_WORKSPACE", raising=False)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    yield tmp_path
    for env in ("dev", "staging", "prod"):
        context = from_process(env)
        for name in state.names(context.endpoints_dir):
            manager.delete(context, name)
