"""`creditops score`: batch scoring of a portfolio, in this process or on a Dask cluster, with a progress bar
and a record in the store."""

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from creditops.cli.app import CommandEnv, app, console, context_for
from creditops.config.environments import ClusterSpec
from creditops.context import Context
from creditops.serving.protocol import MAX_REASONS

if TYPE_CHECKING:
    from creditops.scoring.batch import BatchResult
    from creditops.serving.model import LoadedModel


@app.command()
def score(
    model: Annotated[str, typer.Option(help="models:/NAME@ALIAS, models:/NAME/VERSION or a model folder")],
    data: Annotated[
        Path,
        typer.Option(
            help="Portfolio to score: .parquet, .csv, .xlsx or .xls; with --cluster, a Parquet file, a folder of"
            " them or a quoted glob ('data/*.parquet')"
        ),
    ],
    output: Annotated[
        Path,
        typer.Option(
            help="Scored file: .parquet or .csv; with --cluster, a folder of Parquet parts (invalid rows, both:"
            " <stem>.invalid.csv beside it)"
        ),
    ],
    chunk_rows: Annotated[
        int,
        typer.Option(
            min=1_000,
            help="Rows read, checked and scored at a time: at most 50,000 in one process; with --cluster, the most"
            " a partition holds",
        ),
    ] = 200_000,
    explain: Annotated[
        int,
        typer.Option(
            min=0, max=MAX_REASONS, help="Give each row its K principal reasons (codes and sentences); 0: none"
        ),
    ] = 0,
    no_logging: Annotated[bool, typer.Option("--no-logging", help="Do not record the batch in MLflow")] = False,
    cluster: Annotated[
        str | None,
        typer.Option(
            help="Score on a Dask cluster: a scheduler address (tcp://HOST:PORT) or local:N for N worker processes"
            " here",
            show_default="the environment's compute.dask_scheduler (dev's without --env), else this process",
        ),
    ] = None,
    env: CommandEnv = None,
) -> None:
    """Score every row of a data file into another: ID, probability, class, model name and version (with
    --cluster, on a Dask cluster: Parquet in, a folder of Parquet parts out)."""
    chosen, context = _cluster_of(cluster, env)
    if chosen is not None:
        _score_on_cluster(model, data, output, chosen, chunk_rows, explain, no_logging, context, env)
        return
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from creditops.scoring.batch import checked_outputs, score_file
    from creditops.scoring.record import batch_run
    from creditops.serving.loading import load_for_serving

    checked_outputs(data, output)  # before the model loads: a clash is refused at once
    context = context or context_for(env)
    loaded = load_for_serving(context.store_uri, model)
    columns = (TextColumn("scoring"), BarColumn(), TextColumn("{task.completed:,} rows"), TimeElapsedColumn())
    with batch_run(None if no_logging else context.store_uri) as record:
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
        record(loaded, data, result)
    _say_scored(result, loaded)


def _cluster_of(cluster: str | None, env: str | None) -> tuple[ClusterSpec | None, Context | None]:
    """Where to score: --cluster, else the environment's compute.dask_scheduler (dev's without --env, as
    other commands without --env work in dev), else None (this process); and the context, when it had to be
    read to know."""
    from creditops.compute.cluster import requested
    from creditops.config.environments import LOCAL_ENVIRONMENT, load_environment

    context = None
    if cluster is None:
        context = context_for(env)
        environment = context.environment or load_environment(LOCAL_ENVIRONMENT)
        cluster = environment.compute.dask_scheduler
    return (None if cluster is None else requested(cluster)), context


def _score_on_cluster(
    model: str,
    data: Path,
    output: Path,
    cluster: ClusterSpec,
    chunk_rows: int,
    explain: int,
    no_logging: bool,
    context: Context | None,
    env: str | None,
) -> None:
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from creditops.scoring.partitioned import parquet_inputs

    inputs = parquet_inputs(data, output)  # before the model loads: a clash or no input is refused at once
    from creditops.compute.scoring import score_on_cluster  # Dask, only now (and a missing extra is one line)
    from creditops.scoring.record import batch_run
    from creditops.serving.loading import load_for_serving

    context = context or context_for(env)
    loaded = load_for_serving(context.store_uri, model)
    where = str(cluster)
    columns = (
        TextColumn(f"scoring on {where}"),
        BarColumn(),
        TextColumn("{task.completed:,} of {task.fields[rows]} rows"),
        TimeElapsedColumn(),
    )
    bar = Progress(*columns, console=console, transient=True)
    task = bar.add_task("score", total=None, rows="?")

    def shown(rows: int, total: int) -> None:
        if not bar.live.is_started:  # once connected (the first call): a failure to connect prints nothing
            bar.start()
        bar.update(task, completed=rows, total=total, rows=f"{total:,}")

    with batch_run(None if no_logging else context.store_uri) as record:
        try:
            batch = score_on_cluster(
                loaded, inputs, output, cluster, chunk_rows=chunk_rows, explain=explain, progress=shown
            )
        finally:
            if bar.live.is_started:  # stopping one never started would still print a line off a terminal
                bar.stop()
        result = batch.result
        record(loaded, inputs.source, result, cluster=where, partitions=batch.partitions)
    _say_scored(result, loaded, f" on {where} ({batch.workers} workers, {batch.partitions} partitions)")


def _say_scored(result: "BatchResult", loaded: "LoadedModel", where: str = "") -> None:
    """What a batch did: rows scored of rows read, where, into what, how fast, and the refused rows' file."""
    console.print(
        f"scored {result.scored:,} of {result.rows:,} rows with {loaded.name} version {loaded.version}{where}"
        f" into {result.output} in {result.seconds:.1f} s; share predicted to default {result.default_rate:.1%}"
        f" (at threshold {loaded.threshold:g})",
        highlight=False,
    )
    if result.invalid_output is not None:
        console.print(f"{result.invalid:,} invalid rows not scored, with their reasons: {result.invalid_output}")
