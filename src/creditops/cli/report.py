"""`creditops report` and `creditops monitor`: the model card and drift monitoring."""

from pathlib import Path
from typing import Annotated

import typer

from creditops.cli.app import EnvOption, OutputOption, app, console, context_for, emit_json, group
from creditops.errors import CreditopsError

monitor_app = group("monitor", "Watch live traffic for drift.")


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

    from creditops.flow.monitoring import DRIFT_EXIT, check_drift, last_drift
    from creditops.views import drift_table

    seconds = _seconds(since)  # the option is checked before the environment is opened
    context = context_for(env)
    result = check_drift(context, seconds)
    if output == "json":
        emit_json({**(last_drift(context) or {}), "features": [asdict(item) for item in result.report.features]})
    else:
        console.print(drift_table(result.report))
        console.print(f"drift page: {result.page}")
    if result.report.drifted:
        raise typer.Exit(DRIFT_EXIT)


def _seconds(duration: str) -> float:
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    number, unit = duration[:-1], duration[-1:]
    if unit not in units or not number.replace(".", "", 1).isdigit():
        raise CreditopsError(f"--since {duration!r} is not a duration like 30m, 6h or 2d")
    return float(number) * units[unit]
