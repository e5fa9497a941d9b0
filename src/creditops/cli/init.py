"""`creditops init`: scaffold a project for a new portfolio."""

from pathlib import Path
from typing import Annotated

import typer

from creditops.cli.app import app, console


@app.command()
def init(
    folder: Annotated[Path, typer.Argument(help="The project folder to create (new, or empty)")],
    data: Annotated[Path, typer.Option(help="The portfolio's data: .csv, .parquet, .xlsx or .xls")],
    label: Annotated[str, typer.Option(help="The column that says whether the account defaulted")],
    positive: Annotated[
        str | None,
        typer.Option(help="The label value meaning default", show_default="1 of 0/1, else bad, yes, default or true"),
    ] = None,
    id_column: Annotated[str | None, typer.Option("--id", help="The account identifier column")] = None,
    protected: Annotated[
        list[str] | None,
        typer.Option(help="A column kept to measure fairness, never to score (repeat, or separate with commas)"),
    ] = None,
    ignore: Annotated[
        list[str] | None, typer.Option(help="A column to leave out (repeat, or separate with commas)")
    ] = None,
    name: Annotated[
        str | None, typer.Option(help="The registered model's name", show_default="the folder's name")
    ] = None,
) -> None:
    """Scaffold a project for a portfolio: its data contract (inferred), modelling config, dev/staging/prod
    environments, GitHub workflows, Azure Pipelines and a README; then `creditops run` works there."""
    from creditops.cli.schema import listed_columns
    from creditops.data.infer import infer_contract
    from creditops.data.io import read_table
    from creditops.scaffold import scaffold

    frame = read_table(data, header=[label])
    names = [str(column) for column in frame.columns]
    model_name = name or folder.resolve().name
    contract = infer_contract(
        frame,
        label=label,
        positive=positive,
        id_column=id_column,
        protected=listed_columns(protected, names),
        ignore=listed_columns(ignore, names),
        name=model_name,
        source=data.name,
    )
    project = scaffold(folder, data, contract, model_name)
    console.print(f"created {project.folder} for the {contract.name} portfolio:", highlight=False)
    for relative in project.files:
        console.print(f"  {relative}", highlight=False)
    console.print(
        f"review config/schema.yaml (inferred from {data.name}), then, in {project.folder}:"
        f" creditops run --data data/{data.name}",
        highlight=False,
    )
