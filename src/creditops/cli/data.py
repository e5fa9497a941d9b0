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
    drift: Annotated[
        str,
        typer.Option(
            help="none, delinquency (more late payers), limits (lower limits) or concept (the same customers,"
            " defaulting for reasons the columns do not show: only outcomes reveal it)"
        ),
    ] = "none",
    outcomes: Annotated[
        Path | None,
        typer.Option(
            help="Also write the rows' outcomes here (ID, default payment next month, observation_date) and"
            " leave the label out of --output: traffic to score now, outcomes to join later"
        ),
    ] = None,
    first_id: Annotated[int, typer.Option(min=1, help="ID of the first customer (keep batches' IDs apart)")] = 1,
    observed_on: Annotated[
        str | None, typer.Option(help="Observation date of the outcomes, YYYY-MM-DD (default: today)")
    ] = None,
) -> None:
    """Write a synthetic data set with the UCI credit-default schema."""
    import datetime
    from collections.abc import Iterator

    import pandas as pd

    from creditops.data.io import writable_suffix, write_chunks
    from creditops.data.schema import LABEL
    from creditops.data.synth import DRIFT_KINDS, split_outcomes, synthesize_chunks

    if drift not in DRIFT_KINDS:
        raise typer.BadParameter(f"unknown drift {drift!r}: use {', '.join(DRIFT_KINDS)}", param_hint="--drift")
    try:
        observed = datetime.date.fromisoformat(observed_on) if observed_on else datetime.date.today()
    except ValueError:
        raise typer.BadParameter(f"{observed_on!r} is not a date like 2026-11-30", param_hint="--observed-on") from None
    if outcomes is not None and outcomes.resolve() == output.resolve():
        raise typer.BadParameter("write the outcomes to another file than --output", param_hint="--outcomes")
    for path in (output, outcomes):  # both refused before either is written
        if path is not None:
            writable_suffix(path)
    defaults = []

    def chunks() -> Iterator[pd.DataFrame]:
        for frame in synthesize_chunks(rows, seed, drift, first_id):  # type: ignore[arg-type]
            defaults.append(int(frame[LABEL].sum()))
            yield frame

    if outcomes is None:
        write_chunks(chunks(), output)
    else:  # the outcomes are small (three columns): kept, and written after the rows to score
        kept = []

        def rows_to_score() -> Iterator[pd.DataFrame]:
            for frame in chunks():
                scored, observed_outcomes = split_outcomes(frame, observed.isoformat())
                kept.append(observed_outcomes)
                yield scored

        write_chunks(rows_to_score(), output)
        write_chunks(kept, outcomes)
    rate = 100 * sum(defaults) / rows
    console.print(f"wrote {output}: {rows:,} rows, default rate {rate:.2f}%, seed {seed}, drift {drift}")
    if outcomes is not None:
        console.print(f"wrote {outcomes}: their outcomes, observed on {observed.isoformat()}")


@data_app.command("check")
def data_check(
    path: Annotated[Path, typer.Argument(help="Data file to check")],
    config: Annotated[
        Path | None,
        typer.Option(
            help="Modelling config JSON (its split decides the fewest rows, its schema_file the data contract);"
            " the project's config/modelling.json, else the embedded defaults, when omitted"
        ),
    ] = None,
) -> None:
    """Run the data contract's checks on a file, and whether it has rows enough to train on; exit 1 when any
    fails."""
    from creditops.config.modelling import load_modelling_config
    from creditops.data.checks import check_data
    from creditops.data.io import read_table
    from creditops.data.split import require_enough_rows
    from creditops.views import check_failures

    settings = load_modelling_config(config)
    contract = settings.contract()
    frame = read_table(path, contract)
    failures = check_data(frame, contract)
    if failures:
        console.print(check_failures(failures))
        raise typer.Exit(1)
    require_enough_rows(contract.labels(frame), settings.data.test_train_ratio, str(path))
    console.print(f"{path}: {len(frame):,} rows pass every data check")
