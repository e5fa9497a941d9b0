"""Azure ML CLI v2 specs from an environment's config: run the same steps at scale.

The pipeline job's command steps call `python -m creditops.steps.*` with the original flags, so Azure
ML runs exactly the code that runs locally. Every file carries its `$schema`.
"""

import json
import os
import tomllib
from pathlib import Path
from typing import Any, Final

import yaml

from creditops.config.environments import EnvironmentConfig
from creditops.config.modelling import ModellingConfig
from creditops.files import write_text

SCHEMAS: Final = "https://azuremlschemas.azureedge.net/latest"
BASE_IMAGE: Final = "mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu22.04:latest"
COMPUTE_SIZE: Final = "Standard_DS3_v2"
CONFIG_NAME: Final = "modelling.json"


def render(environment: EnvironmentConfig, modelling: ModellingConfig, project: Path, out: Path) -> list[Path]:
    """Write every spec into `out`; returns the files written."""
    out = out.resolve()
    prefix = f"creditops-{environment.name}"
    data_file = Path(environment.data.path)
    rendered_config = modelling.model_copy(
        update={"data": modelling.data.model_copy(update={"data_file": data_file.name})}
    )
    code = os.path.relpath(project.resolve(), out)
    files: dict[str, Any] = {
        "compute.yml": _compute(prefix),
        "environment.yml": _environment(prefix),
        "data-input.yml": _data(f"{prefix}-input", "uri_folder", _relative(data_file.parent, project, out)),
        "data-config.yml": _data(f"{prefix}-config", "uri_file", CONFIG_NAME),
        "pipeline.yml": _pipeline(prefix, code, data_file, project, out),
        "online-endpoint.yml": _online_endpoint(environment),
        "online-deployment.yml": _online_deployment(environment, rendered_config),
        "batch-endpoint.yml": _batch_endpoint(prefix),
        "batch-deployment.yml": _batch_deployment(prefix, rendered_config),
    }
    written = [write_text(out / name, yaml.safe_dump(spec, sort_keys=False)) for name, spec in files.items()]
    written.append(write_text(out / "conda.yml", yaml.safe_dump(_conda(project), sort_keys=False)))
    written.append(write_text(out / CONFIG_NAME, json.dumps(rendered_config.model_dump(mode="json"), indent=2)))
    return written


def _schema(name: str) -> str:
    return f"{SCHEMAS}/{name}.schema.json"


def _relative(path: Path, project: Path, out: Path) -> str:
    absolute = path if path.is_absolute() else project / path
    return os.path.relpath(absolute.resolve(), out)


def _compute(prefix: str) -> dict[str, Any]:
    return {
        "$schema": _schema("amlCompute"),
        "name": f"{prefix}-cpu",
        "type": "amlcompute",
        "size": COMPUTE_SIZE,
        "min_instances": 0,
        "max_instances": 2,
        "idle_time_before_scale_down": 600,
    }


def _environment(prefix: str) -> dict[str, Any]:
    return {
        "$schema": _schema("environment"),
        "name": f"{prefix}-env",
        "image": BASE_IMAGE,
        "conda_file": "conda.yml",
        "description": "creditops and its dependencies, from the project's own dependency list",
    }


def _conda(project: Path) -> dict[str, Any]:
    """The conda file from pyproject.toml's dependencies: the same list `pip install` uses."""
    metadata = tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    return {
        "name": "creditops",
        "channels": ["conda-forge"],
        "dependencies": [
            f"python={metadata['requires-python'].removeprefix('>=')}",
            "pip",
            {"pip": metadata["dependencies"]},
        ],
    }


def _data(name: str, kind: str, path: str) -> dict[str, Any]:
    return {"$schema": _schema("data"), "name": name, "type": kind, "path": path}


def _pipeline(prefix: str, code: str, data_file: Path, project: Path, out: Path) -> dict[str, Any]:
    environment = f"azureml:{prefix}-env@latest"
    compute = f"azureml:{prefix}-cpu"

    def step(name: str, arguments: str, inputs: dict[str, Any], outputs: dict[str, Any]) -> dict[str, Any]:
        return {
            "type": "command",
            "code": code,
            "command": f"python -m creditops.steps.{name} {arguments}",
            "environment": environment,
            "compute": compute,
            "inputs": inputs,
            "outputs": outputs,
        }

    config = "--config_file ${{inputs.config}}"

    def folder() -> dict[str, Any]:
        return {"type": "uri_folder"}

    return {
        "$schema": _schema("pipelineJob"),
        "type": "pipeline",
        "display_name": f"{prefix}-training",
        "experiment_name": "creditops",
        "inputs": {
            "data": {"type": "uri_folder", "path": _relative(data_file.parent, project, out)},
            "config": {"type": "uri_file", "path": CONFIG_NAME},
        },
        "jobs": {
            "data_prep": step(
                "data_prep",
                f"--data_input_dir ${{{{inputs.data}}}} --data_output_dir ${{{{outputs.prepared}}}} {config}",
                {"data": "${{parent.inputs.data}}", "config": "${{parent.inputs.config}}"},
                {"prepared": folder()},
            ),
            "train": step(
                "train",
                f"--data_dir ${{{{inputs.prepared}}}} --model_dir ${{{{outputs.model}}}} {config}",
                {"prepared": "${{parent.jobs.data_prep.outputs.prepared}}", "config": "${{parent.inputs.config}}"},
                {"model": folder()},
            ),
            "evaluate": step(
                "evaluate",
                "--data_dir ${{inputs.prepared}} --model_dir ${{inputs.model}} --eval_dir ${{outputs.evaluation}} "
                + config,
                {
                    "prepared": "${{parent.jobs.data_prep.outputs.prepared}}",
                    "model": "${{parent.jobs.train.outputs.model}}",
                    "config": "${{parent.inputs.config}}",
                },
                {"evaluation": folder()},
            ),
            "register": step(
                "register",
                "--model_dir ${{inputs.model}} --eval_dir ${{inputs.evaluation}} --registry_dir ${{outputs.registry}} "
                + config,
                {
                    "model": "${{parent.jobs.train.outputs.model}}",
                    "evaluation": "${{parent.jobs.evaluate.outputs.evaluation}}",
                    "config": "${{parent.inputs.config}}",
                },
                {"registry": folder()},
            ),
        },
    }


def _online_endpoint(environment: EnvironmentConfig) -> dict[str, Any]:
    return {
        "$schema": _schema("managedOnlineEndpoint"),
        "name": environment.endpoint.name,
        "auth_mode": "key" if environment.endpoint.auth == "key" else "aml_token",
        "description": f"creditops scoring endpoint ({environment.name})",
    }


def _probe(initial_delay: int) -> dict[str, Any]:
    return {"initial_delay": initial_delay, "period": 10, "timeout": 5, "success_threshold": 1, "failure_threshold": 30}


def _online_deployment(environment: EnvironmentConfig, modelling: ModellingConfig) -> dict[str, Any]:
    return {
        "$schema": _schema("managedOnlineDeployment"),
        "name": "blue",
        "endpoint_name": environment.endpoint.name,
        "model": f"azureml:{modelling.registry.model_name}@latest",
        "instance_type": COMPUTE_SIZE,
        "instance_count": max(1, environment.endpoint.workers),
        "liveness_probe": _probe(30),
        "readiness_probe": _probe(10),
        "request_settings": {"request_timeout_ms": 5000, "max_concurrent_requests_per_instance": 8},
    }


def _batch_endpoint(prefix: str) -> dict[str, Any]:
    return {"$schema": _schema("batchEndpoint"), "name": f"{prefix}-batch", "description": "creditops batch scoring"}


def _batch_deployment(prefix: str, modelling: ModellingConfig) -> dict[str, Any]:
    return {
        "$schema": _schema("batchDeployment"),
        "name": "default",
        "endpoint_name": f"{prefix}-batch",
        "model": f"azureml:{modelling.registry.model_name}@latest",
        "compute": f"azureml:{prefix}-cpu",
        "resources": {"instance_count": 1},
        "max_concurrency_per_instance": 2,
        "mini_batch_size": 10,
        "output_action": "append_row",
        "output_file_name": "predictions.csv",
        "retry_settings": {"max_retries": 3, "timeout": 300},
        "error_threshold": -1,
        "logging_level": "info",
    }
