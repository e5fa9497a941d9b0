"""What the step entry points share: argument parsing, the config, the context, error handling."""

import argparse
import logging
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from creditops.config.modelling import ModellingConfig, load_modelling_config
from creditops.context import Context, file_refusal, from_process, set_process_defaults
from creditops.errors import CreditopsError
from creditops.tracking.runs import RunLog, Tracker

COMPARISON_FILE: Final = "comparison.json"
CONFUSION_MATRIX_PNG: Final = "confusion_matrix.png"
ROC_CURVE_PNG: Final = "roc_curve.png"

log = logging.getLogger("creditops")


@dataclass(frozen=True)
class StepRun:
    """One step run from its command line: its flags, its config and the store it may log into."""

    args: argparse.Namespace
    config: ModellingConfig
    context: Context

    @property
    def allow_pickle(self) -> bool:
        """Whether a pickled model may be loaded: --allow-pickle, or MLflow's own opt-in variable."""
        return bool(getattr(self.args, "allow_pickle", False)) or self.context.allow_pickle

    @property
    def logging_enabled(self) -> bool:
        return not getattr(self.args, "no_logging", False)

    def record(self, step: str, run_log: RunLog) -> None:
        """Log the step into its own MLflow run (or $MLFLOW_RUN_ID's), unless --no_logging."""
        tracker = Tracker(self.logging_enabled, self.context.store_uri)
        with tracker.run(step):
            tracker.record(run_log)


def parser(prog: str, description: str) -> argparse.ArgumentParser:
    """An argument parser with the shared --config_file option."""
    parsed = argparse.ArgumentParser(prog=prog, description=description)
    parsed.add_argument("--config_file", type=Path, required=True, help="Modelling config JSON (original schema)")
    return parsed


def add_no_logging(parsed: argparse.ArgumentParser) -> None:
    parsed.add_argument("--no_logging", action="store_true", help="Do not log to MLflow tracking")


def add_allow_pickle(parsed: argparse.ArgumentParser) -> None:
    parsed.add_argument(
        "--allow-pickle",
        action="store_true",
        help="Load a pickled model (the original train step's model.pkl); loading a pickle runs code",
    )


def run_step(parsed: argparse.ArgumentParser, argv: list[str] | None, body: Callable[[StepRun], int]) -> int:
    """Parse `argv`, load the config, run `body`; a user error prints one line and sets the exit code."""
    try:
        args = parsed.parse_args(argv)
    except SystemExit as exit_request:
        return int(exit_request.code or 0)
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    set_process_defaults()
    try:
        config = load_modelling_config(args.config_file)
        return body(StepRun(args, config, from_process()))
    except CreditopsError as error:
        print(f"error: {error}", file=sys.stderr)
        return error.exit_code
    except OSError as error:
        refused = file_refusal(error)
        if refused is None:
            raise
        print(f"error: {refused}", file=sys.stderr)
        return refused.exit_code
