"""The rendered training pipeline runs as Azure ML would run it: its own environment, its four commands.

A virtual environment is built from the rendered conda file's pip list only (uv, with its cache), and
each step's command runs from the job's `code:` folder with `${{inputs.*}}`/`${{outputs.*}}` bound to
local folders, as Azure ML mounts them. Nothing of this checkout's virtual environment is visible.
"""

import os
import subprocess  # nosec B404
import sys
from pathlib import Path

import pytest
import yaml

from creditops.azure.render import render, requirements
from creditops.config.environments import load_environment
from creditops.config.modelling import load_modelling_config
from creditops.data.io import write_table
from creditops.data.synth import synthesize
from creditops.tracking.registry import Registry

from .pipeline_runner import run_steps

ml = pytest.importorskip("azure.ai.ml", reason="azure-ai-ml is the optional extra creditops[azure]")

REPO = Path(__file__).resolve().parents[2]
WORKSPACE_URI = (
    "azureml://eastus.api.azureml.ms/mlflow/v1.0/subscriptions/0/resourceGroups/rg/providers/"
    "Microsoft.MachineLearningServices/workspaces/ws"
)

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The dev environment's specs and a virtual environment built from their conda file alone."""
    out = tmp_path_factory.mktemp("azureml")
    render(load_environment("dev", REPO / "config" / "environments"), load_modelling_config(None), REPO, out, "t1")
    venv = tmp_path_factory.mktemp("venv") / "env"
    uv = Path(sys.executable).parent / "uv"
    subprocess.run([str(uv), "venv", "--quiet", "--python", sys.executable, str(venv)], check=True)  # nosec B603
    pip = requirements(yaml.safe_load((out / "conda.yml").read_text()))
    subprocess.run(  # nosec B603
        [str(uv), "pip", "install", "--quiet", "--python", str(venv / "bin" / "python"), *pip], check=True
    )
    return out, venv / "bin" / "python"


def test_the_rendered_steps_run_in_the_rendered_environment_and_register_a_model(
    rendered: tuple[Path, Path], tmp_path: Path
) -> None:
    out, python = rendered
    job = ml.load_job(out / "pipeline.yml")._to_dict()  # what the service receives: components inlined
    config = load_modelling_config(out / "config" / "modelling.json")
    data = tmp_path / "data"
    write_table(synthesize(800, seed=11), data / config.data.data_file)
    parent_inputs = {"data": data, "config": out / "config"}
    store = f"sqlite:///{tmp_path / 'store.db'}"
    environ = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "MLFLOW_TRACKING_URI": store}
    steps = run_steps(job, parent_inputs, tmp_path / "jobs", str(python), environ)
    assert [step.name for step in steps] == ["data_prep", "train", "evaluate", "register"]
    for step in steps:
        assert step.returncode == 0, f"{step.name}: {step.stderr[-2000:]}"
    versions = Registry(store).versions(config.registry.model_name)
    assert [info.version for info in versions] == ["1"]
    assert (tmp_path / "jobs" / "register" / "registry" / config.model.model_name / "MLmodel").is_file()


def test_the_rendered_environment_has_the_workspace_store_and_not_this_checkout(rendered: tuple[Path, Path]) -> None:
    _, python = rendered
    probe = (
        "import importlib.util, mlflow.tracking._model_registry.utils as u;"
        f"u._get_store_registry().get_store_builder({WORKSPACE_URI!r});"
        "print(importlib.util.find_spec('creditops'))"
    )
    done = subprocess.run([str(python), "-c", probe], capture_output=True, text=True, cwd="/")  # nosec B603
    assert done.returncode == 0, done.stderr[-1000:]
    assert done.stdout.strip() == "None"
