"""Submit rendered specs to an Azure ML workspace with MLClient (needs `pip install creditops[azure]`)."""

from collections.abc import Mapping
from pathlib import Path
from typing import Final

from creditops.errors import CreditopsError

WORKSPACE_VARIABLES: Final = ("AZURE_SUBSCRIPTION_ID", "AZURE_RESOURCE_GROUP", "AZUREML_WORKSPACE_NAME")


def submit(specs: Path, variables: Mapping[str, str]) -> str:
    """Create the compute, environment and data assets, then the pipeline job; its studio URL.

    `variables` name the workspace (WORKSPACE_VARIABLES), read from the process environment by the caller.
    """
    missing = [name for name in WORKSPACE_VARIABLES if not variables.get(name)]
    if missing:
        raise CreditopsError(
            f"set {', '.join(missing)} to submit to Azure ML (or run 'az ml job create -f {specs / 'pipeline.yml'}')"
        )
    try:
        from azure.ai.ml import MLClient, load_compute, load_data, load_environment, load_job
        from azure.identity import DefaultAzureCredential
    except ImportError as error:
        raise CreditopsError("Azure ML support is not installed: pip install 'creditops[azure]'") from error
    client = MLClient(
        DefaultAzureCredential(),
        variables["AZURE_SUBSCRIPTION_ID"],
        variables["AZURE_RESOURCE_GROUP"],
        variables["AZUREML_WORKSPACE_NAME"],
    )
    client.compute.begin_create_or_update(load_compute(specs / "compute.yml")).result()
    client.environments.create_or_update(load_environment(specs / "environment.yml"))
    for name in ("data-input.yml", "data-config.yml"):
        client.data.create_or_update(load_data(specs / name))
    job = client.jobs.create_or_update(load_job(specs / "pipeline.yml"))
    return str(job.studio_url or job.name)
