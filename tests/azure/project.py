"""A checkout whose staging and prod endpoints are on Azure ML, and the process environment it runs in."""

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import yaml

from ..small_environments import write_small_environments

REPO = Path(__file__).resolve().parents[2]
MODEL = "credit_default_model"
WORKSPACE = {"AZURE_SUBSCRIPTION_ID": "0000", "AZURE_RESOURCE_GROUP": "rg", "AZUREML_WORKSPACE_NAME": "ws"}


def write_azure_project(root: Path, **sections: dict[str, Any]) -> None:
    """The small environments with `endpoint.target: azureml` in staging and prod, each section updated by
    `sections` (e.g. rollout={...}); the repository's config files; `src/` linked, as a checkout has it
    (the code a release's training pipeline runs)."""
    write_small_environments(root)
    for env in ("staging", "prod"):
        path = root / "config" / "environments" / f"{env}.yaml"
        settings = yaml.safe_load(path.read_text())
        settings["endpoint"]["target"] = "azureml"
        for section, values in sections.items():
            settings[section].update(values)
        path.write_text(yaml.safe_dump(settings))
    for name in ("modelling.json", "schema.yaml"):
        shutil.copy(REPO / "config" / name, root / "config" / name)
    (root / "src").symlink_to(REPO / "src")


@contextmanager
def inside(root: Path, **variables: str) -> Iterator[None]:
    """Commands run from `root`, with its own workspace, the workspace variables and `variables` set."""
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(root)
        patch.setenv("CREDITOPS_HOME", str(root / ".creditops"))
        patch.delenv("MLFLOW_TRACKING_URI", raising=False)
        for name, value in {**WORKSPACE, **variables}.items():
            patch.setenv(name, value)
        yield
