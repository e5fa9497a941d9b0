"""`creditops version`, `creditops config` and `creditops env`: the version, the modelling config, the environments."""

import json
from pathlib import Path
from typing import Annotated, Literal

import typer

from creditops import __version__
from creditops.cli.app import OutputOption, app, console, context_for, emit_json, group

config_app = group("config", "The modelling config.")
env_app = group("env", "The dev, staging and prod environments.")


@app.command()
def version() -> None:
    """Print the creditops version."""
    console.print(__version__)


@config_app.command("schema")
def config_schema(
    of: Annotated[
        Literal["modelling", "schema"],
        typer.Option("--of", help="modelling (the modelling config) or schema (a data contract file)"),
    ] = "modelling",
) -> None:
    """Print the JSON Schema of the modelling config, or of a data contract with --of schema."""
    if of == "schema":
        from creditops.data.contract import Contract

        console.print_json(json.dumps(Contract.model_json_schema()))
        return
    from creditops.config.modelling import ModellingConfig

    console.print_json(json.dumps(ModellingConfig.model_json_schema()))


@config_app.command("show")
def config_show(
    path: Annotated[Path | None, typer.Argument(help="Config file; the defaults when omitted")] = None,
) -> None:
    """Print the resolved config, defaults filled in."""
    from creditops.config.modelling import load_modelling_config

    console.print_json(load_modelling_config(path).model_dump_json())


@env_app.command("show")
def env_show(name: Annotated[str, typer.Argument(help="dev, staging or prod")], output: OutputOption = "table") -> None:
    """Print an environment's resolved settings."""
    from creditops.context import redacted

    context = context_for(name)
    declared = context.env.tracking_uri
    resolved = {
        **context.env.model_dump(mode="json"),
        "tracking_uri": redacted(context.store_uri),
        "tracking_uri_declared": declared,
        "store": "embedded SQLite in the workspace" if declared is None else "named by the environment file",
        "workspace": str(context.workspace),
    }
    if output == "json":
        emit_json(resolved)
        return
    console.print_json(json.dumps(resolved))


@env_app.command("data")
def env_data(
    name: Annotated[str, typer.Argument(help="dev, staging or prod")],
    synthetic: Annotated[
        bool,
        typer.Option(
            "--synthetic",
            help="Write synthetic UCI rows (data.rows, data.seed) where the data belongs, production data or not;"
            " an existing file is never overwritten",
        ),
    ] = False,
) -> None:
    """Check the environment's data is there; dev's synthetic demo data is written when absent, production
    data only with --synthetic."""
    from creditops.flow.release import ensure_data, synthesize_data

    context = context_for(name)
    location = synthesize_data(context, say=console.print) if synthetic else ensure_data(context, say=console.print)
    console.print(f"{name} data: {location}", highlight=False, soft_wrap=True)
