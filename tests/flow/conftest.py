"""A throwaway project: the repository's configs with small environments on free ports."""

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from creditops.context import from_process
from creditops.endpoints import manager, state

from ..small_environments import write_small_environments

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A project folder with small environments on free ports; every endpoint deleted afterwards."""
    write_small_environments(tmp_path)
    for name in ("modelling.json", "schema.yaml"):
        shutil.copy(REPO / "config" / name, tmp_path / "config" / name)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CREDITOPS_HOME", str(tmp_path / ".creditops"))
    monkeypatch.delenv("CREDITOPS_WORKSPACE", raising=False)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    yield tmp_path
    for env in ("dev", "staging", "prod"):
        context = from_process(env)
        for name in state.names(context.endpoints_dir):
            manager.delete(context, name)
