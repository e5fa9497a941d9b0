"""`creditops report` and `creditops monitor`: the model card, drift and performance on outcomes."""

from pathlib import Path
from typing import Annotated

import typer

from creditops.cli.app import EnvOption, OutputOption, app, console, context_for, emit_json, group

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
    """Compare recent traffic with the training reference; exit 4 when drift exceeds the thresholds."""
    from dataclasses import asdict

    from creditops.flow.monitoring import DRIFT_EXIT, check_drift, duration_seconds, last_drift
    from creditops.views import drift_table

    seconds = duration_seconds(since)  # the option is checked before the environment is opened
    context = context_for(env)
    result = check_drift(context, seconds)
    if output == "json":
        emit_json({**(last_drift(context) or {}), "features": [asdict(item) for item in result.report.features]})
    else:
        console.print(drift_table(result.report))
        console.print(f"drift page: {result.page}")
    if result.report.drifted:
        raise typer.Exit(DRIFT_EXIT)


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
