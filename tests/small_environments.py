"""The repository's environment files made small for tests: little data, a short gate, free ports."""

import shutil
from collections.abc import Mapping
from pathlib import Path

import pytest
import yaml

from creditops import processes
from creditops.data.io import write_table
from creditops.data.synth import synthesize

REPO = Path(__file__).resolve().parents[1]


def write_small_environments(project: Path, ports: Mapping[str, int | None] | None = None) -> None:
    """config/environments/*.yaml under `project`: the repository's, with 2,500 rows, a 100-sample
    bootstrap, lenient gate limits for small data and free endpoint ports (or `ports` per environment; None:
    a free port taken when the endpoint starts). Staging's and prod's data is production data, never
    synthesized by a release: their 2,500 synthetic rows are written here on purpose, as `creditops env
    data ENV --synthetic` writes them."""
    (project / "config" / "environments").mkdir(parents=True, exist_ok=True)
    for name in ("dev", "staging", "prod"):
        settings = yaml.safe_load((REPO / "config" / "environments" / f"{name}.yaml").read_text())
        settings["data"]["rows"] = 2_500
        if name != "dev":
            data = project / settings["data"]["path"]
            if not data.exists():
                write_table(synthesize(settings["data"]["rows"], settings["data"]["seed"]), data)
        settings["endpoint"]["port"] = ports[name] if ports is not None else processes.free_port()
        settings["gate"]["min_roc_auc"] = 0.6
        settings["gate"]["bootstrap_samples"] = 100
        settings["gate"]["max_roc_auc_drop"] = 0.05  # small data: let a slightly different model through
        settings["gate"]["slice_tolerance"] = 0.2
        (project / "config" / "environments" / f"{name}.yaml").write_text(yaml.safe_dump(settings))


def small_project(project: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """`project` as the current folder: small environments, the repository's modelling config and schema,
    its own creditops home and no store or workspace from the process environment."""
    write_small_environments(project)
    return use_project(project, monkeypatch)


def use_project(project: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """`project`, whose config/environments are written, as the current folder: the repository's modelling
    config and schema, its own creditops home and no store or workspace from the process environment."""
    for name in ("modelling.json", "schema.yaml"):
        shutil.copy(REPO / "config" / name, project / "config" / name)
    monkeypatch.chdir(project)
    monkeypatch.setenv("CREDITOPS_HOME", str(project / ".creditops"))
    monkeypatch.delenv("CREDITOPS_WORKSPACE", raising=False)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    return project
