"""`creditops azure`: Azure ML as the scale-out target."""

import os
from pathlib import Path
from typing import Annotated

import typer

from creditops.cli.app import EnvOption, console, context_for, group

azure_app = group("azure", "Azure ML as the scale-out target.")


@azure_app.command("render")
def azure_render(
    env: EnvOption,
    out: Annotated[Path, typer.Option(help="Folder for the Azure ML specs")] = Path("azureml"),
) -> None:
    """Write Azure ML CLI v2 specs (compute, environment, data, pipeline, endpoints) for an environment."""
    from creditops.azure.render import render

    context = context_for(env)
    for path in render(context.env, context.modelling, Path.cwd(), out):
        console.print(f"wrote {path}")


@azure_app.command("submit")
def azure_submit(
    specs: Annotated[Path, typer.Option(help="Folder written by 'creditops azure render'")] = Path("azureml"),
) -> None:
    """Submit the rendered training pipeline to the Azure ML workspace named by the environment."""
    from creditops.azure.submit import WORKSPACE_VARIABLES, submit

    variables = {name: os.environ.get(name, "") for name in WORKSPACE_VARIABLES}
    console.print(f"submitted: {submit(specs, variables)}")
