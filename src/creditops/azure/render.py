"""Azure ML CLI v2 specs from an environment's config: run the same steps at scale.

The pipeline job's command steps call `python -m creditops.steps.*` with the original flags from the
project's `src/` folder (the job's code), in an environment built from the project's own dependency
list plus azureml-mlflow, so Azure ML runs exactly the code that runs locally. The online and batch
deployments score with the same package. Every file carries its `$schema`; the endpoint target builds
its entities from the same functions.
"""

import json
import os
import tomllib
from pathlib import Path
from typing import Any, Final

import yaml

from creditops.config.environments import EnvironmentConfig
from creditops.config.modelling import ModellingConfig
from creditops.context import COMMIT_ENV
from creditops.data.location import DataLocation, as_location, name_of, parent_of
from creditops.files import write_text

SCHEMAS: Final = "https://azuremlschemas.azureedge.net/latest"
BASE_IMAGE: Final = "mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu22.04:latest"
CONFIG_NAME: Final = "modelling.json"
CONFIG_FOLDER: Final = "config"
"""The rendered config folder, uploaded as one data asset: the modelling config and the data contract it
names travel together, as in the project's own config/ folder."""
SCHEMA_NAME: Final = "schema.yaml"
AZUREML_MLFLOW: Final = "azureml-mlflow>=1.57"
"""MLflow's `azureml://` tracking and registry URIs: what a step needs to log into the workspace."""
INFERENCE_SERVER: Final = "azureml-inference-server-http>=1.3"
"""Azure ML's scoring server, which calls the deployment's init() and run()."""
ONLINE_SCRIPT: Final = "creditops/serving/azureml_score.py"
BATCH_SCRIPT: Final = "creditops/scoring/azureml_batch.py"


COMPONENTS: Final = "components"
STEPS: Final = ("data_prep", "train", "evaluate", "register")
NOT_DETERMINISTIC: Final = frozenset({"evaluate", "register"})
"""Steps whose result depends on the registry's state (the champion they compare with, the versions already
registered), not on their inputs alone: Azure ML must run them again, never reuse an earlier run's outputs."""


def render(
    environment: EnvironmentConfig,
    modelling: ModellingConfig,
    project: Path,
    out: Path,
    label: str = "local",
    commit: str | None = None,
) -> list[Path]:
    """Write every spec into `out`; returns the files written. `label` (a build or commit) names the run;
    `commit`, when given, is the code commit the steps record in their lineage (the job's code folder is a
    snapshot without git)."""
    out = out.resolve()
    prefix = f"creditops-{environment.name}"
    data_file = as_location(environment.data.path)
    contract = modelling.contract()
    rendered_config = modelling.model_copy(
        update={"data": modelling.data.model_copy(update={"data_file": name_of(data_file), "schema_file": SCHEMA_NAME})}
    )
    code = os.path.relpath((project / "src").resolve(), out)
    model = f"azureml:{rendered_config.registry.model_name}@latest"
    files: dict[str, Any] = {
        "compute.yml": compute_spec(environment),
        "environment.yml": environment_spec(prefix, "conda.yml"),
        "data-input.yml": _data(f"{prefix}-input", "uri_folder", _relative(parent_of(data_file), project, out)),
        "data-config.yml": _data(f"{prefix}-config", "uri_folder", CONFIG_FOLDER),
        **{f"{COMPONENTS}/{name}.yml": _component(name, os.path.join("..", code), prefix) for name in STEPS},
        "pipeline.yml": _pipeline(prefix, label, environment, commit),
        "online-endpoint.yml": online_endpoint_spec(environment),
        "online-deployment.yml": online_deployment_spec(environment, "blue", model, code, ("latest", 0.5)),
        "batch-endpoint.yml": _batch_endpoint(prefix),
        "batch-deployment.yml": batch_deployment_spec(environment, model, code),
    }
    written = [write_text(out / name, yaml.safe_dump(spec, sort_keys=False)) for name, spec in files.items()]
    written.append(write_text(out / "conda.yml", yaml.safe_dump(conda_spec(project), sort_keys=False)))
    config_text = json.dumps(rendered_config.model_dump(mode="json"), indent=2)
    written.append(write_text(out / CONFIG_FOLDER / CONFIG_NAME, config_text))
    contract_text = yaml.safe_dump(contract.model_dump(mode="json"), sort_keys=False, allow_unicode=True)
    written.append(write_text(out / CONFIG_FOLDER / SCHEMA_NAME, contract_text))
    return written


def requirements(conda: dict[str, Any]) -> list[str]:
    """The pip requirements of a conda spec (what a test builds a virtual environment from)."""
    return [item for entry in conda["dependencies"] if isinstance(entry, dict) for item in entry.get("pip", [])]


def _schema(name: str) -> str:
    return f"{SCHEMAS}/{name}.schema.json"


def _relative(path: DataLocation, project: Path, out: Path) -> str:
    """A local folder relative to the specs (as the Azure ML CLI reads them); a URI as it is."""
    if isinstance(path, str):
        return path
    absolute = path if path.is_absolute() else project / path
    return os.path.relpath(absolute.resolve(), out)


def compute_spec(environment: EnvironmentConfig) -> dict[str, Any]:
    """The environment's cluster, where the pipeline trains and batch deployments score."""
    settings = environment.azureml
    return {
        "$schema": _schema("amlCompute"),
        "name": f"creditops-{environment.name}-cpu",
        "type": "amlcompute",
        "size": settings.compute_size,
        "min_instances": settings.min_nodes,
        "max_instances": settings.max_nodes,
        "idle_time_before_scale_down": settings.idle_seconds,
    }


def environment_spec(prefix: str, conda_file: str) -> dict[str, Any]:
    return {
        "$schema": _schema("environment"),
        "name": f"{prefix}-env",
        "image": BASE_IMAGE,
        "conda_file": conda_file,
        "description": "creditops' dependencies (from pyproject.toml), azureml-mlflow and the inference server",
    }


def conda_spec(project: Path | None = None) -> dict[str, Any]:
    """The conda file from the project's dependency list (pyproject.toml in a checkout, else the installed
    package's metadata): the same list `pip install` uses, plus what Azure ML needs to run it."""
    if project is not None and (project / "pyproject.toml").is_file():
        metadata = tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))["project"]
        python, dependencies = metadata["requires-python"], list(metadata["dependencies"])
    else:
        from importlib.metadata import metadata as installed

        found = installed("creditops")
        python = found["Requires-Python"]
        dependencies = [req for req in found.get_all("Requires-Dist") or [] if "extra ==" not in req]
    return {
        "name": "creditops",
        "channels": ["conda-forge"],
        "dependencies": [
            f"python={python.removeprefix('>=')}",
            "pip",
            {"pip": [*dependencies, AZUREML_MLFLOW, INFERENCE_SERVER]},
        ],
    }


def _data(name: str, kind: str, path: str) -> dict[str, Any]:
    return {"$schema": _schema("data"), "name": name, "type": kind, "path": path}


_PORTS: Final[dict[str, tuple[dict[str, str], tuple[str, ...], str]]] = {
    # step: (its inputs and what each is bound to, its outputs, its arguments besides --config_file)
    "data_prep": (
        {"data": "${{parent.inputs.data}}"},
        ("prepared",),
        "--data_input_dir ${{inputs.data}} --data_output_dir ${{outputs.prepared}}",
    ),
    "train": (
        {"prepared": "${{parent.jobs.data_prep.outputs.prepared}}"},
        ("model",),
        "--data_dir ${{inputs.prepared}} --model_dir ${{outputs.model}}",
    ),
    "evaluate": (
        {"prepared": "${{parent.jobs.data_prep.outputs.prepared}}", "model": "${{parent.jobs.train.outputs.model}}"},
        ("evaluation",),
        "--data_dir ${{inputs.prepared}} --model_dir ${{inputs.model}} --eval_dir ${{outputs.evaluation}}",
    ),
    "register": (
        {"model": "${{parent.jobs.train.outputs.model}}", "evaluation": "${{parent.jobs.evaluate.outputs.evaluation}}"},
        ("registry",),
        "--model_dir ${{inputs.model}} --eval_dir ${{inputs.evaluation}} --registry_dir ${{outputs.registry}}",
    ),
}
_CONFIG_BINDING: Final = {"config": "${{parent.inputs.config}}"}


def _component(name: str, code: str, prefix: str) -> dict[str, Any]:
    """The command component of step `name`: `python -m creditops.steps.NAME` with the original flags."""
    inputs, outputs, arguments = _PORTS[name]
    return {
        "$schema": _schema("commandComponent"),
        "name": f"creditops_{name}",
        "display_name": name,
        "type": "command",
        "is_deterministic": name not in NOT_DETERMINISTIC,
        "code": code,
        "environment": f"azureml:{prefix}-env@latest",
        "command": f"python -m creditops.steps.{name} {arguments} --config_file ${{{{inputs.config}}}}/{CONFIG_NAME}",
        "inputs": {port: {"type": "uri_folder"} for port in (*inputs, "config")},
        "outputs": {port: {"type": "uri_folder"} for port in outputs},
    }


def _pipeline(prefix: str, label: str, environment: EnvironmentConfig, commit: str | None) -> dict[str, Any]:
    def step(name: str) -> dict[str, Any]:
        inputs, outputs, _ = _PORTS[name]
        node: dict[str, Any] = {
            "type": "command",
            "component": f"./{COMPONENTS}/{name}.yml",
            "compute": f"azureml:{prefix}-cpu",
            "inputs": {**inputs, **_CONFIG_BINDING},
            "outputs": {port: {"type": "uri_folder", "mode": "rw_mount"} for port in outputs},
        }
        if commit:
            node["environment_variables"] = {COMMIT_ENV: commit}
        return node

    return {
        "$schema": _schema("pipelineJob"),
        "type": "pipeline",
        "display_name": f"{prefix}-training-{label}",
        "experiment_name": f"{prefix}-training",
        "tags": {"creditops.environment": environment.name, "creditops.build": label},
        "inputs": {
            "data": {"type": "uri_folder", "path": f"azureml:{prefix}-input@latest", "mode": "ro_mount"},
            "config": {"type": "uri_folder", "path": f"azureml:{prefix}-config@latest", "mode": "ro_mount"},
        },
        "jobs": {name: step(name) for name in STEPS},
    }


def online_endpoint_spec(environment: EnvironmentConfig, name: str | None = None) -> dict[str, Any]:
    """Endpoint `name` (by default the environment's)."""
    return {
        "$schema": _schema("managedOnlineEndpoint"),
        "name": name or environment.endpoint.name,
        "auth_mode": "key" if environment.endpoint.auth == "key" else "aml_token",
        "description": f"creditops scoring endpoint ({environment.name})",
    }


def _probe(initial_delay: int, environment: EnvironmentConfig) -> dict[str, Any]:
    settings = environment.azureml
    return {
        "initial_delay": initial_delay,
        "period": settings.probe_period,
        "timeout": settings.probe_timeout,
        "success_threshold": 1,
        "failure_threshold": settings.probe_failure_threshold,
    }


def online_deployment_spec(
    environment: EnvironmentConfig,
    name: str,
    model: str,
    code: str,
    served: tuple[str, float],
    endpoint: str | None = None,
) -> dict[str, Any]:
    """Deployment `name` of `model` (an `azureml:` reference) on `endpoint` (by default the
    environment's), scoring with creditops' own script from `code`; `served` is the registry version and
    threshold the answers report."""
    settings = environment.azureml
    version, threshold = served
    return {
        "$schema": _schema("managedOnlineDeployment"),
        "name": name,
        "endpoint_name": endpoint or environment.endpoint.name,
        "model": model,
        "code_configuration": {"code": code, "scoring_script": ONLINE_SCRIPT},
        "environment": f"azureml:creditops-{environment.name}-env@latest",
        "environment_variables": {
            "CREDITOPS_DEPLOYMENT": name,
            "CREDITOPS_MODEL_NAME": model.removeprefix("azureml:").split("@")[0].split(":")[0],
            "CREDITOPS_MODEL_VERSION": version,
            "CREDITOPS_THRESHOLD": str(threshold),
        },
        "instance_type": settings.instance_type,
        "instance_count": settings.instance_count,
        "app_insights_enabled": settings.app_insights,
        "liveness_probe": _probe(settings.liveness_initial_delay, environment),
        "readiness_probe": _probe(settings.readiness_initial_delay, environment),
        "request_settings": {"request_timeout_ms": 5000, "max_concurrent_requests_per_instance": 8},
    }


def _batch_endpoint(prefix: str) -> dict[str, Any]:
    return {"$schema": _schema("batchEndpoint"), "name": f"{prefix}-batch", "description": "creditops batch scoring"}


def batch_deployment_spec(
    environment: EnvironmentConfig, model: str, code: str, threshold: float = 0.5
) -> dict[str, Any]:
    """The model batch deployment (`type: model`, its run settings under `settings:`, the form Azure ML
    documents now; the flat form is deprecated), scoring with creditops' batch script."""
    prefix, settings = f"creditops-{environment.name}", environment.azureml
    return {
        "$schema": _schema("modelBatchDeployment"),
        "name": "default",
        "endpoint_name": f"{prefix}-batch",
        "type": "model",
        "model": model,
        "code_configuration": {"code": code, "scoring_script": BATCH_SCRIPT},
        "environment": f"azureml:{prefix}-env@latest",
        "compute": f"azureml:{prefix}-cpu",
        "resources": {"instance_count": settings.batch_instance_count},
        "settings": {
            "max_concurrency_per_instance": settings.batch_max_concurrency,
            "mini_batch_size": settings.mini_batch_size,
            "output_action": "append_row",
            "output_file_name": "predictions.csv",
            "retry_settings": {"max_retries": 3, "timeout": 300},
            "error_threshold": -1,
            "logging_level": "info",
            "environment_variables": {"CREDITOPS_THRESHOLD": str(threshold)},
        },
    }


def load_model_batch_deployment(source: Any) -> Any:
    """A `type: model` batch deployment spec (a path or stream) through the SDK's own schema for it.

    `azure.ai.ml.load_batch_deployment` knows only the deprecated flat form (it refuses `settings:`), and
    azure-ai-ml 1.35 does not re-export the loader of this form, so it is imported from where it lives."""
    from azure.ai.ml.entities._load_functions import load_model_batch_deployment as load

    return load(source)
