"""Rendered Azure ML specs load in the real azure-ai-ml SDK, so a schema error fails here."""

from pathlib import Path

import pytest
import yaml

from creditops.azure.render import render
from creditops.config.environments import ENVIRONMENTS, load_environment
from creditops.config.modelling import load_modelling_config

ml = pytest.importorskip("azure.ai.ml", reason="azure-ai-ml is the optional extra creditops[azure]")
REPO = Path(__file__).resolve().parents[2]
LOADERS = {
    "compute.yml": ml.load_compute,
    "environment.yml": ml.load_environment,
    "data-input.yml": ml.load_data,
    "data-config.yml": ml.load_data,
    "pipeline.yml": ml.load_job,
    "online-endpoint.yml": ml.load_online_endpoint,
    "online-deployment.yml": ml.load_online_deployment,
    "batch-endpoint.yml": ml.load_batch_endpoint,
    "batch-deployment.yml": ml.load_batch_deployment,
}


@pytest.fixture(scope="module", params=ENVIRONMENTS)
def rendered(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    environment = load_environment(request.param, REPO / "config" / "environments")
    out = tmp_path_factory.mktemp(f"azureml-{request.param}")
    render(environment, load_modelling_config(REPO / "config" / "modelling.json"), REPO, out)
    return request.param, out


@pytest.mark.parametrize("name", LOADERS)
def test_every_spec_loads_in_the_sdk_and_carries_its_schema(rendered: tuple[str, Path], name: str) -> None:
    _, out = rendered
    assert yaml.safe_load((out / name).read_text())["$schema"].startswith("https://azuremlschemas")
    LOADERS[name](out / name)


def test_the_pipeline_runs_the_four_steps_with_the_original_flags(rendered: tuple[str, Path]) -> None:
    _, out = rendered
    job = ml.load_job(out / "pipeline.yml")
    commands = {name: step.command for name, step in job.jobs.items()}
    assert list(commands) == ["data_prep", "train", "evaluate", "register"]
    assert "python -m creditops.steps.data_prep --data_input_dir" in commands["data_prep"]
    assert "--registry_dir ${{outputs.registry}}" in commands["register"]
    assert all("--config_file ${{inputs.config}}" in command for command in commands.values())


def test_online_endpoint_uses_key_auth_and_deployment_has_probes(rendered: tuple[str, Path]) -> None:
    _, out = rendered
    assert ml.load_online_endpoint(out / "online-endpoint.yml").auth_mode == "key"
    deployment = ml.load_online_deployment(out / "online-deployment.yml")
    assert deployment.liveness_probe.initial_delay >= 10
    assert deployment.readiness_probe.failure_threshold >= 3


def test_conda_file_comes_from_the_project_dependencies(rendered: tuple[str, Path]) -> None:
    _, out = rendered
    conda = yaml.safe_load((out / "conda.yml").read_text())
    pip = conda["dependencies"][-1]["pip"]
    assert any(requirement.startswith("mlflow") for requirement in pip)
    assert any(requirement.startswith("lightgbm") for requirement in pip)


def test_submit_without_a_workspace_says_what_to_set(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from creditops.azure.submit import submit
    from creditops.errors import CreditopsError

    for name in ("AZURE_SUBSCRIPTION_ID", "AZURE_RESOURCE_GROUP", "AZUREML_WORKSPACE_NAME"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(CreditopsError, match="set AZURE_SUBSCRIPTION_ID, AZURE_RESOURCE_GROUP"):
        submit(tmp_path, {})
