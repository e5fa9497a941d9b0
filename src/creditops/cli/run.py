"""`creditops run` and `creditops models`: the training pipeline and the registered versions."""

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from creditops.cli.app import (
    CommandEnv,
    OutputOption,
    Verbose,
    app,
    console,
    context_for,
    emit_json,
    group,
    group_context,
    mlflow_messages,
)
from creditops.errors import CreditopsError

models_app = group("models", "Registered model versions, aliases and lineage.", environment_option=True)


@app.command()
def run(
    config: Annotated[
        Path | None, typer.Option(help="Modelling config JSON; the embedded defaults when omitted")
    ] = None,
    data: Annotated[
        Path | None,
        typer.Option(
            help="Input data (.csv/.parquet/.xlsx/.xls); default: dev's data (dev.yaml data.path), made on first use"
        ),
    ] = None,
    no_logging: Annotated[
        bool, typer.Option("--no-logging", help="Train and evaluate only: log nothing, register nothing")
    ] = False,
    summary_json: Annotated[
        Path | None, typer.Option(help="Also write the run summary (stages, metrics, version) as JSON")
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress display: the summary only (CI)")] = False,
    verbose: Verbose = False,
    cluster: Annotated[
        str | None,
        typer.Option(
            metavar="ADDRESS|local:N",
            help="Check, split and train on a Dask cluster: a scheduler's address (tcp://HOST:PORT) or local:N"
            " (N worker processes here); --data is then Parquet: a file, a folder of them or a glob",
        ),
    ] = None,
    eval_rows: Annotated[
        int,
        typer.Option(min=1_000, help="With --cluster: test rows the evaluation, gate and card use at most"),
    ] = 1_000_000,
) -> None:
    """Run the training pipeline: check data, prep, train, evaluate vs champion, register."""
    from contextlib import AbstractContextManager, nullcontext

    from creditops.config.modelling import load_modelling_config
    from creditops.files import write_json
    from creditops.pipeline import STAGES, Stages, run_pipeline
    from creditops.views import pipeline_summary

    context = context_for()
    settings = load_modelling_config(config)
    source = data if data is not None else _dev_data()
    if cluster is None and data is not None and not data.is_file():
        raise CreditopsError(
            f"data file not found: {source}; create it with "
            f"'creditops data synth --rows 30000 --seed 2005 --output {source}' or pass --data"
        )
    on_cluster: AbstractContextManager[Stages[Any, Any] | None] = nullcontext()
    if cluster is not None:
        from creditops.compute.training import cluster_stages

        on_cluster = cluster_stages(cluster, source, settings, eval_rows)
    with on_cluster as stages, _progress(quiet) as progress, mlflow_messages(shown=verbose):
        task = progress.add_task("starting", total=None)

        def show(stage: str, seconds: float | None) -> None:
            if quiet:
                return
            if seconds is None:
                progress.reset(task, description=f"[{STAGES.index(stage) + 1}/{len(STAGES)}] {stage}")
            else:
                progress.console.print(f"[green]✓[/green] {stage} [dim]{seconds:.2f}s[/dim]")

        result = run_pipeline(source, settings, context, tracking=not no_logging, on_stage=show, stages=stages)
    console.print(pipeline_summary(result))
    if result.evaluated_on is not None:
        console.print(f"evaluated on {result.evaluated_on}")
    if summary_json is not None:
        write_json(summary_json, result.as_dict())


def _dev_data() -> Path:
    """Without --data, dev's data (data.path of dev's environment file: the file `make run` makes), written on
    first use as `ci release --env dev` writes it: a command without --env works in dev."""
    from creditops.config.environments import LOCAL_ENVIRONMENT
    from creditops.data.location import as_location
    from creditops.flow.release import ensure_data

    found = ensure_data(context_for(LOCAL_ENVIRONMENT), say=console.print)
    location = as_location(found)
    if not isinstance(location, Path):
        raise CreditopsError(f"dev's data is at {found}: pass it with --data (creditops run reads local files)")
    return location


def _progress(quiet: bool) -> Progress:
    """The running stage with its elapsed time, on one line that goes away when the run ends."""
    columns = (SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn())
    return Progress(*columns, console=console, transient=True, disable=quiet)


@models_app.command("list")
def models_list(
    ctx: typer.Context,
    name: Annotated[str | None, typer.Argument(help="Registered model name; all when omitted")] = None,
    env: CommandEnv = None,
    output: OutputOption = "table",
) -> None:
    """List registered versions with aliases, metrics and lineage."""
    from dataclasses import asdict

    from creditops.tracking.registry import Registry
    from creditops.views import versions_table

    registry = Registry(group_context(ctx, env).store_uri)
    if name:
        registry.require(name)  # a misspelt name is an error naming the registered ones, not an empty table
    names = [name] if name else registry.names()
    if output == "json":
        emit_json({each: [asdict(version) for version in registry.versions(each)] for each in names})
        return
    if not names:
        console.print(f"no registered models in {registry.uri}")
        return
    for each in names:
        console.print(versions_table(each, registry.versions(each)))


@models_app.command("show")
def models_show(
    ctx: typer.Context,
    reference: Annotated[
        str, typer.Argument(help="NAME, NAME@ALIAS, NAME/VERSION or VERSION (of the project's model)")
    ],
    env: CommandEnv = None,
    output: OutputOption = "table",
) -> None:
    """Show one version: aliases, metrics and lineage tags."""
    from dataclasses import asdict

    from creditops.tracking.registry import Registry
    from creditops.views import version_detail

    context = group_context(ctx, env)
    found = Registry(context.store_uri).resolve(reference, context.model_name)
    if output == "json":
        emit_json(asdict(found))
        return
    console.print(version_detail(found))


@models_app.command("diff")
def models_diff(
    ctx: typer.Context,
    a: Annotated[str, typer.Argument(help="NAME/VERSION, NAME@ALIAS or VERSION (of the project's model)")],
    b: Annotated[str, typer.Argument(help="The version to compare it with, written the same ways")],
    env: CommandEnv = None,
    output: OutputOption = "table",
) -> None:
    """Compare two versions: metrics, lineage, training parameters, the latest gate decision (ROC AUC with
    its interval) and the data contract; lines that differ are marked ≠."""
    from functools import partial

    from creditops.gate.evidence import decision_of
    from creditops.tracking.compare import diff
    from creditops.tracking.registry import Registry
    from creditops.views import version_diff

    context = group_context(ctx, env)
    registry = Registry(context.store_uri)
    environment = None if context.environment is None else context.environment.name
    gate_of = partial(decision_of, registry, environment=environment)
    found = diff(registry, a, b, default_name=context.model_name, gate_of=gate_of)
    if output == "json":
        emit_json(found.as_dict())
        return
    console.print(version_diff(found))
