"""`creditops data`: synthesize and check data sets."""

from pathlib import Path
from typing import Annotated

import typer

from creditops.cli.app import console, group

data_app = group("data", "Synthesize and check data sets.")


@data_app.command("synth")
def data_synth(
    output: Annotated[Path, typer.Option(help="Output file: .csv, .parquet or .xlsx")],
    rows: Annotated[int, typer.Option(min=1, help="Number of customers")] = 30_000,
    seed: Annotated[int, typer.Option(help="Random seed (same seed, same data)")] = 2005,
    drift: Annotated[str, typer.Option(help="none, delinquency (more late payers) or limits (lower limits)")] = "none",
) -> None:
    """Write a synthetic data set with the UCI credit-default schema."""
    from creditops.data.io import write_table
    from creditops.data.synth import DRIFT_KINDS, synthesize

    if drift not in DRIFT_KINDS:
        raise typer.BadParameter(f"unknown drift {drift!r}: use {', '.join(DRIFT_KINDS)}", param_hint="--drift")
    frame = synthesize(rows, seed, drift)  # type: ignore[arg-type]
    write_table(frame, output)
    rate = 100 * frame["default payment next month"].mean()
    console.print(f"wrote {output}: {rows:,} rows, default rate {rate:.2f}%, seed {seed}, drift {drift}")


@data_app.command("check")
def data_check(
    path: Annotated[Path, typer.Argument(help="Data file to check")],
) -> None:
    """Run the data checks on a file; exit 1 with a report when any fails."""
    from creditops.data.checks import check_data
    from creditops.data.io import read_table
    from creditops.views import check_failures

    frame = read_table(path)
    failures = check_data(frame)
    if failures:
        console.print(check_failures(failures))
        raise typer.Exit(1)
    console.print(f"{path}: {len(frame):,} rows pass every data check")
