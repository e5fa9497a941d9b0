"""What the step entry points share: argument parsing, the config, error handling and file names."""

import argparse
import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Final

from creditops.config.modelling import ModellingConfig, load_modelling_config
from creditops.errors import CreditopsError
from creditops.tracking.runs import RunLog, Tracker

DATA_MANIFEST: Final = "data_manifest.json"
MODEL_MANIFEST: Final = "model_manifest.json"
COMPARISON_FILE: Final = "comparison.json"
CONFUSION_MATRIX_PNG: Final = "confusion_matrix.png"
ROC_CURVE_PNG: Final = "roc_curve.png"

log = logging.getLogger("creditops")


def parser(prog: str, description: str) -> argparse.ArgumentParser:
    """An argument parser with the shared --config_file option."""
    parsed = argparse.ArgumentParser(prog=prog, description=description)
    parsed.add_argument("--config_file", type=Path, required=True, help="Modelling config JSON (original schema)")
    return parsed


def add_no_logging(parsed: argparse.ArgumentParser) -> None:
    parsed.add_argument("--no_logging", action="store_true", help="Do not log to MLflow tracking")


def run_step(
    parsed: argparse.ArgumentParser,
    argv: list[str] | None,
    body: Callable[[argparse.Namespace, ModellingConfig], int],
) -> int:
    """Parse `argv`, load the config, run `body`; a user error prints one line and sets the exit code."""
    try:
        args = parsed.parse_args(argv)
    except SystemExit as exit_request:
        return int(exit_request.code or 0)
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    try:
        config = load_modelling_config(args.config_file)
        return body(args, config)
    except CreditopsError as error:
        print(f"error: {error}", file=sys.stderr)
        return error.exit_code


def record(step: str, log: RunLog, *, enabled: bool) -> None:
    """Log a step run on its own into its own MLflow run (or $MLFLOW_RUN_ID's)."""
    tracker = Tracker(enabled)
    with tracker.run(step):
        tracker.record(log)
