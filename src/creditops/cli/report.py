"""`creditops report` and `creditops monitor`: the model card, drift and performance on outcomes."""

from pathlib import Path
from typing import Annotated

import typer

from creditops.cli.app import EnvOption, OutputOption, app, console, context_for, emit_json, errors, group

monitor_app = group("monitor", "Watch live traffic for drift, and the model's performance on observed outcomes.")


@app.command()
def report(
    model: Annotated[str, typer.Argument(help="models:/NAME/VERSION or models:/NAME@ALIAS")],
    out: Annotated[Path | None, typer.Option(help="HTML file; default <workspace>/reports/NAME-vN.html")] = None,
    data: Annotated[
        Path | None, typer.Option(help="Data to judge it on; default the test split of its training data")
    ] = None,
    env: Annotated[
        str | None, typer.Option("--env", help="The store of dev, staging or prod (default: the local workspace)")
    ] = None,
) -> None:
    """Write the model card: one self-contained HTML file (with the version's latest gate decision)."""
    from creditops.report.build import card_for_version

    console.print(f"wrote {card_for_version(context_for(env), model, data, out)}")


@monitor_app.command("drift")
def monitor_drift(
    since: Annotated[str, typer.Option(help="How far back to look: 30m, 6h, 2d")] = "24h",
    output: OutputOption = "table",
    env: EnvOption = "dev",
) -> None:
    """Compare recent traffic with the training reference; exit 4 when drift exceeds the thresholds. Each
    check's summary (with every feature's PSI and p-value) is kept for `creditops monitor history`."""
    from creditops.flow.monitoring import DRIFT_EXIT, check_drift, duration_seconds
    from creditops.views import drift_table

    seconds = duration_seconds(since)  # the option is checked before the environment is opened
    context = context_for(env)
    result = check_drift(context, seconds)
    if output == "json":
        emit_json(result.summary.model_dump(mode="json"))
    else:
        console.print(drift_table(result.report))
        console.print(f"drift page: {result.page}", highlight=False, soft_wrap=True)
        console.print(
            f"drift over time: creditops monitor history --env {context.env.name}", highlight=False, soft_wrap=True
        )
    if result.report.drifted:
        raise typer.Exit(DRIFT_EXIT)


@monitor_app.command("history")
def monitor_history(
    env: EnvOption = "dev",
    output: OutputOption = "table",
    out: Annotated[
        Path | None, typer.Option(help="HTML file; default <workspace>/monitoring/drift-history-ENV.html")
    ] = None,
) -> None:
    """The drift checks kept for an environment, newest last: time, model version, rows, drifted features,
    mean predicted probability of default and the top PSI; writes the history page (each feature's PSI
    across checks, the mean predicted probability of default over time) and prints its path. Exit 0, also
    when no check was kept yet."""
    from creditops.flow.monitoring import drift_history
    from creditops.views import drift_history_table

    context = context_for(env)
    result = drift_history(context, out)
    found = result.history
    name = context.env.name
    if output == "json":
        emit_json({**found.as_dict(), "page": None if result.page is None else str(result.page)})
    if not found.checks:
        empty = f"no drift checks kept for {name} yet; run 'creditops monitor drift --env {name}'"
        (errors if output == "json" else console).print(empty, markup=False, highlight=False, soft_wrap=True)
    for note in found.notes:
        errors.print(f"note: {note}", markup=False, highlight=False, soft_wrap=True)
    if output == "json" or not found.checks:
        return
    console.print(drift_history_table(found))
    figures_note = found.figures_note()
    if figures_note:
        console.print(f"note: {figures_note}", markup=False, highlight=False, soft_wrap=True)
    console.print(f"drift history page: {result.page}", highlight=False, soft_wrap=True)


@monitor_app.command("performance")
def monitor_performance(
    outcomes: Annotated[
        Path, typer.Option(help="Observed outcomes: ID, default payment next month and observation_date columns")
    ],
    since: Annotated[str, typer.Option(help="How far back the predictions they are joined to go: 90d, 365d")] = "365d",
    output: OutputOption = "table",
    env: EnvOption = "dev",
) -> None:
    """Join outcomes to the logged predictions by ID and judge the production model on them: ROC AUC,
    calibration and default rate against its test-time figures; exit 4 when the AUC is below the minimum."""
    from dataclasses import asdict

    from creditops.flow.monitoring import DRIFT_EXIT, check_performance, duration_seconds, last_performance
    from creditops.views import performance_table

    seconds = duration_seconds(since)
    context = context_for(env)
    result = check_performance(context, outcomes, seconds)
    if output == "json":
        emit_json({**(last_performance(context) or {}), "figures": [asdict(item) for item in result.report.figures]})
    else:
        console.print(performance_table(result.report, result.joined))
        console.print(f"outcomes page: {result.page}", highlight=False, soft_wrap=True)
    if result.report.degraded:
        raise typer.Exit(DRIFT_EXIT)
