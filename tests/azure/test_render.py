"""Rendered Azure ML specs load in the real azure-ai-ml SDK, so a schema error fails here."""

import warnings
from pathlib import Path

import pytest
import yaml

from creditops.azure.render import NOT_DETERMINISTIC, STEPS, load_model_batch_deployment, render
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
    "batch-deployment.yml": load_model_batch_deployment,
    **{f"components/{step}.yml": ml.load_component for step in STEPS},
}


@pytest.fixture(scope="module", params=ENVIRONMENTS)
def rendered(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    environment = load_environment(request.param, REPO / "config" / "environments")
    out = tmp_path_factory.mktemp(f"azureml-{request.param}")
    render(environment, load_modelling_config(REPO / "config" / "modelling.json"), REPO, out, "t1", "c0ffee")
    return request.param, out


@pytest.mark.parametrize("name", LOADERS)
def test_every_spec_loads_in_the_sdk_and_carries_its_schema(rendered: tuple[str, Path], name: str) -> None:
    _, out = rendered
    assert yaml.safe_load((out / name).read_text())["$schema"].startswith("https://azuremlschemas")
    LOADERS[name](out / name)


def test_the_pipeline_runs_the_four_steps_with_the_original_flags(rendered: tuple[str, Path]) -> None:
    _, out = rendered
    job = ml.load_job(out / "pipeline.yml")
    commands = {name: step.component.command for name, step in job.jobs.items()}
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


def test_submit_without_a_workspace_says_what_to_set(
    rendered: tuple[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    from creditops.azure.submit import submit
    from creditops.errors import CreditopsError

    _, out = rendered
    for name in ("AZURE_SUBSCRIPTION_ID", "AZURE_RESOURCE_GROUP", "AZUREML_WORKSPACE_NAME"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(CreditopsError, match="set AZURE_SUBSCRIPTION_ID, AZURE_RESOURCE_GROUP, AZUREML_WORKSPACE_NAME"):
        submit(out, {"AZURE_RESOURCE_GROUP": ""})


def test_submit_needs_rendered_specs(tmp_path: Path) -> None:
    from creditops.azure.submit import submit
    from creditops.errors import CreditopsError

    with pytest.raises(CreditopsError, match="run 'creditops azure render"):
        submit(tmp_path, {})


class _Operations:
    def __init__(self, workspace: "_Workspace") -> None:
        self.workspace = workspace

    def begin_create_or_update(self, entity: object) -> "_Operations":
        self.workspace.created.append(type(entity).__name__)
        return self

    def result(self) -> None:
        return None

    def create_or_update(self, entity: object) -> object:
        self.workspace.created.append(type(entity).__name__)
        return type("Job", (), {"name": "job-1", "studio_url": "https://ml.azure.com/runs/job-1"})()

    def stream(self, name: str) -> None:
        self.workspace.streamed.append(name)

    def get(self, name: str) -> object:
        return type("Job", (), {"status": self.workspace.status})()


class _Workspace:
    """The four MLClient operations `submit` uses, recording what it created."""

    def __init__(self, status: str) -> None:
        self.status = status
        self.created: list[str] = []
        self.streamed: list[str] = []
        self.compute = self.environments = self.data = self.jobs = _Operations(self)


@pytest.mark.parametrize(("status", "fails"), [("Completed", False), ("Failed", True), ("Canceled", True)])
def test_submit_waits_for_the_job_and_fails_when_it_fails(rendered: tuple[str, Path], status: str, fails: bool) -> None:
    from creditops.azure.submit import submit
    from creditops.errors import CreditopsError

    _, out = rendered
    workspace = _Workspace(status)
    if fails:
        with pytest.raises(CreditopsError, match=f"ended {status}: see https://ml.azure.com"):
            submit(out, {}, ml=workspace, say=lambda _: None)
    else:
        assert submit(out, {}, ml=workspace, say=lambda _: None) == "https://ml.azure.com/runs/job-1"
    assert workspace.created == ["AmlCompute", "Environment", "Data", "Data", "PipelineJob"]
    assert len(workspace.streamed) == 1


def test_submit_no_wait_returns_at_once(rendered: tuple[str, Path]) -> None:
    from creditops.azure.submit import submit

    _, out = rendered
    workspace = _Workspace("Failed")
    submit(out, {}, wait=False, ml=workspace, say=lambda _: None)
    assert workspace.streamed == []


def test_pipeline_reads_data_assets_by_name_and_names_the_build(rendered: tuple[str, Path]) -> None:
    env, out = rendered
    pipeline = yaml.safe_load((out / "pipeline.yml").read_text())
    assert pipeline["inputs"]["data"] == {
        "type": "uri_folder",
        "path": f"azureml:creditops-{env}-input@latest",
        "mode": "ro_mount",
    }
    assert all(
        job["outputs"][name]["mode"] == "rw_mount" for job in pipeline["jobs"].values() for name in job["outputs"]
    )
    assert pipeline["experiment_name"] == f"creditops-{env}-training"
    assert pipeline["display_name"].endswith("-t1")
    components = [yaml.safe_load((out / job["component"]).read_text()) for job in pipeline["jobs"].values()]
    assert all((out / "components" / component["code"]).resolve() == REPO / "src" for component in components)
    conda = yaml.safe_load((out / "conda.yml").read_text())
    assert any(item.startswith("azureml-mlflow") for item in conda["dependencies"][-1]["pip"])


def test_compute_and_instances_come_from_the_environment_file(tmp_path: Path) -> None:
    environment = load_environment("prod", REPO / "config" / "environments")
    bigger = environment.model_copy(
        update={"azureml": environment.azureml.model_copy(update={"compute_size": "Standard_E8s_v3", "max_nodes": 8})}
    )
    render(bigger, load_modelling_config(REPO / "config" / "modelling.json"), REPO, tmp_path, "t1")
    compute = ml.load_compute(tmp_path / "compute.yml")
    assert (compute.size, compute.max_instances) == ("Standard_E8s_v3", 8)
    served = environment.azureml.model_copy(
        update={
            "instance_type": "Standard_F4s_v2",
            "instance_count": 3,
            "liveness_initial_delay": 90,
            "app_insights": False,
        }
    )
    render(environment.model_copy(update={"azureml": served}), load_modelling_config(None), REPO, tmp_path, "t1")
    deployment = ml.load_online_deployment(tmp_path / "online-deployment.yml")
    assert (deployment.instance_type, deployment.instance_count) == ("Standard_F4s_v2", 3)
    assert deployment.liveness_probe.initial_delay == 90
    assert deployment.app_insights_enabled is False


def test_the_batch_deployment_is_the_model_form_and_loads_without_a_deprecation_warning(
    rendered: tuple[str, Path],
) -> None:
    env, out = rendered
    spec = yaml.safe_load((out / "batch-deployment.yml").read_text())
    assert spec["$schema"].endswith("/modelBatchDeployment.schema.json")
    assert spec["type"] == "model"
    assert {"mini_batch_size", "retry_settings", "output_action", "output_file_name"} <= set(spec["settings"])
    from marshmallow.warnings import RemovedInMarshmallow4Warning

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warnings.simplefilter("ignore", RemovedInMarshmallow4Warning)  # marshmallow's own, not our spec's
        deployment = load_model_batch_deployment(out / "batch-deployment.yml")
    assert type(deployment).__name__ == "ModelBatchDeployment"
    assert (
        deployment.settings.mini_batch_size
        == load_environment(env, REPO / "config" / "environments").azureml.mini_batch_size
    )
    assert deployment.settings.output_action == "append_row"
    assert deployment.settings.retry_settings.max_retries == 3
    assert deployment.settings.environment_variables == {"CREDITOPS_THRESHOLD": "0.5"}
    with pytest.warns(UserWarning, match="direct usage is deprecated"):  # what the flat form gave
        ml.load_batch_deployment(_flat(spec, out))


def _flat(spec: dict[str, object], out: Path) -> Path:
    settings = spec["settings"]
    assert isinstance(settings, dict)
    flat = {key: value for key, value in spec.items() if key not in ("settings", "type", "$schema")}
    flat.update({key: value for key, value in settings.items() if key != "environment_variables"})
    path = out / "flat-batch-deployment.yml"
    path.write_text(yaml.safe_dump(flat))
    return path


def test_evaluate_and_register_are_not_deterministic_so_azure_ml_never_reuses_them(rendered: tuple[str, Path]) -> None:
    _, out = rendered
    assert {"evaluate", "register"} == NOT_DETERMINISTIC
    for step in STEPS:
        assert ml.load_component(out / "components" / f"{step}.yml").is_deterministic is (step not in NOT_DETERMINISTIC)
    job = ml.load_job(out / "pipeline.yml")
    assert {name: node.component.is_deterministic for name, node in job.jobs.items()} == {
        "data_prep": True,
        "train": True,
        "evaluate": False,
        "register": False,
    }
    assert all(node.environment_variables == {"CREDITOPS_GIT_COMMIT": "c0ffee"} for node in job.jobs.values())
