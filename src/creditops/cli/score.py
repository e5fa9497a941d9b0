"""`creditops score`: batch scoring of a portfolio file, with a progress bar and a record in the store."""

from pathlib import Path
from typing import Annotated

import typer

from creditops.cli.app import CommandEnv, app, console, context_for
from creditops.serving.protocol import MAX_REASONS


@app.command()
def score(
    model: Annotated[str, typer.Option(help="models:/NAME@ALIAS, models:/NAME/VERSION or a model folder")],
    data: Annotated[Path, typer.Option(help="Portfolio to score: .parquet, .csv, .xlsx or .xls")],
    output: Annotated[Path, typer.Option(help="Scored file: .parquet or .csv (invalid rows: <stem>.invalid.csv)")],
    chunk_rows: Annotated[int, typer.Option(min=1_000, help="Rows read, checked and scored at a time")] = 200_000,
    explain: Annotated[
        int,
        typer.Option(
            min=0, max=MAX_REASONS, help="Give each row its K principal reasons (codes and sentences); 0: none"
        ),
    ] = 0,
    no_logging: Annotated[bool, typer.Option("--no-logging", help="Do not record the batch in MLflow")] = False,
    env: CommandEnv = None,
) -> None:
    """Score every row of a data file into another: ID, probability, class, model name and version."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from creditops.scoring.batch import checked_outputs, score_file
    from creditops.scoring.record import record_batch
    from creditops.serving.loading import load_for_serving

    checked_outputs(data, output)  # before the model loads: a clash is refused at once
    context = context_for(env)
    loaded = load_for_serving(context.store_uri, model)
    columns = (TextColumn("scoring"), BarColumn(), TextColumn("{task.completed:,} rows"), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=True) as bar:
        task = bar.add_task("score", total=None)
        result = score_file(
            loaded,
            data,
            output,
            chunk_rows=chunk_rows,
            explain=explain,
            progress=lambda rows: bar.update(task, completed=rows),
        )
    if not no_logging:
        record_batch(context.store_uri, loaded, data, result)
    rate = f"{result.default_rate:.1%}"
    console.print(
        f"scored {result.scored:,} of {result.rows:,} rows with {loaded.name} version {loaded.version} into"
        f" {result.output} in {result.seconds:.1f} s; share predicted to default {rate}"
        f" (at threshold {loaded.threshold:g})",
        highlight=False,
    )
    if result.invalid_output is not None:
        console.print(f"{result.invalid:,} invalid rows not scored, with their reasons: {result.invalid_output}")
