"""`creditops init`: scaffold a project for a new portfolio."""

from pathlib import Path
from typing import Annotated

import typer

from creditops.cli.app import app, console
from creditops.cli.schema import IdOption, IgnoreOption, LabelOption, PositiveOption, ProtectedOption


@app.command()
def init(
    folder: Annotated[Path, typer.Argument(help="The project folder to create (new, or empty)")],
    data: Annotated[Path, typer.Option(help="The portfolio's data: .csv, .parquet, .xlsx or .xls")],
    label: LabelOption,
    positive: PositiveOption = None,
    id_column: IdOption = None,
    protected: ProtectedOption = None,
    ignore: IgnoreOption = None,
    name: Annotated[
        str | None, typer.Option(help="The registered model's name", show_default="the folder's name")
    ] = None,
) -> None:
    """Scaffold a project for a portfolio: its data contract (inferred), modelling config, dev/staging/prod
    environments, GitHub workflows, Azure Pipelines and a README; then `creditops run` works there."""
    from creditops.cli.schema import inferred
    from creditops.errors import ConfigError
    from creditops.scaffold import MODEL_NAME, scaffold

    model_name = name or folder.resolve().name
    if name is None and not MODEL_NAME.match(model_name):
        raise ConfigError(f"the folder's name {model_name!r} cannot be a model's name: give one with --name")
    contract, _, _ = inferred(data, label, positive, id_column, protected, ignore, model_name)
    project = scaffold(folder, data, contract, model_name)
    console.print(f"created {project.folder} for the {contract.name} portfolio:", highlight=False)
    for relative in project.files:
        console.print(f"  {relative}", highlight=False)
    console.print(
        f"review config/schema.yaml (inferred from {data.name}), then, in {project.folder}:"
        f" creditops run --data data/{data.name}",
        highlight=False,
    )
