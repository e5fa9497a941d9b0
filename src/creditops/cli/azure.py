"""`creditops azure`: Azure ML as the scale-out target."""

import os
from pathlib import Path
from typing import Annotated, Any

import typer

from creditops.cli.app import EnvOption, console, context_for, group
from creditops.context import Context

azure_app = group("azure", "Azure ML as the scale-out target.")


@azure_app.command("render")
def azure_render(
    out: Annotated[Path, typer.Option(help="Folder for the Azure ML specs")] = Path("azureml"),
    label: Annotated[
        str | None, typer.Option(help="Build or commit that names the pipeline run (default: the git commit)")
    ] = None,
    env: EnvOption = "dev",
) -> None:
    """Write Azure ML CLI v2 specs (compute, environment, data, pipeline, endpoints) for an environment."""
    from creditops.azure.render import render
    from creditops.tracking.lineage import git_commit

    context = context_for(env)
    commit = git_commit(Path.cwd(), context.commit_override)
    for path in render(context.env, context.modelling, Path.cwd(), out, label or commit, commit):
        console.print(f"wrote {path}")


@azure_app.command("submit")
def azure_submit(
    specs: Annotated[Path, typer.Option(help="Folder written by 'creditops azure render'")] = Path("azureml"),
    wait: Annotated[bool, typer.Option("--wait/--no-wait", help="Stream the job until it ends")] = True,
) -> None:
    """Submit the rendered training pipeline to the Azure ML workspace (AZURE_SUBSCRIPTION_ID,
    AZURE_RESOURCE_GROUP, AZUREML_WORKSPACE_NAME); exits non-zero when the job fails."""
    from creditops.azure.submit import submit
    from creditops.azure.workspace import CLIENT_FACTORY, WORKSPACE_VARIABLES

    variables = {name: os.environ.get(name, "") for name in (*WORKSPACE_VARIABLES, CLIENT_FACTORY)}
    submit(specs, variables, wait=wait, say=console.print)


def _workspace(env: str) -> tuple[Context, Any]:
    """The environment's context and an MLClient on the workspace its variables name."""
    from creditops.azure.workspace import client

    context = context_for(env)
    return context, client(context.azure_workspace)


@azure_app.command("batch-deploy")
def azure_batch_deploy(
    model: Annotated[str, typer.Option(help="models:/NAME/VERSION or models:/NAME@ALIAS of the environment's store")],
    env: EnvOption = "dev",
) -> None:
    """Create the environment's batch endpoint and its deployment of a registered model on Azure ML."""
    from creditops.azure.batch import deploy_batch

    context, ml = _workspace(env)
    deploy_batch(ml, context, model, say=console.print)


@azure_app.command("batch-smoke")
def azure_batch_smoke(
    data: Annotated[Path, typer.Option(help="Folder of data files to score (CSV or Parquet)")],
    env: EnvOption = "dev",
) -> None:
    """Batch smoke test: score the folder on the batch endpoint, wait, fail on a failed job."""
    from creditops.azure.batch import batch_smoke

    context, ml = _workspace(env)
    batch_smoke(ml, context, data, say=console.print)
