"""The creditops command line: one module per command group, each parsing options, building the context,
calling one function and printing with rich."""

import gc
import sys

import typer

from creditops.cli import (
    azure,
    data,
    endpoint,
    flow,
    init,
    report,
    run,
    runs,
    schema,
    score,
    serve,
    settings,
    status,
    team_store,
    ui,
)
from creditops.cli.app import app, errors
from creditops.context import file_refusal, set_process_defaults
from creditops.errors import CreditopsError

COMMAND_GROUPS = (
    azure,
    data,
    endpoint,
    flow,
    init,
    report,
    run,
    runs,
    schema,
    score,
    serve,
    settings,
    status,
    team_store,
    ui,
)
"""Imported for the commands they add to `app`."""


def process() -> None:
    """The `creditops` process: `main`, then an exit without the interpreter's last full garbage collection
    over every loaded module's objects (about a second once MLflow, scikit-learn and LightGBM are loaded). Exit
    handlers, thread joins and reference-counted clean-ups still run; only unreachable cycles are left to the
    operating system, which frees the whole process at once."""
    try:
        code = main()
    finally:
        gc.freeze()
    sys.exit(code)


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; user errors print one line and return their exit code, never a traceback."""
    set_process_defaults()
    try:
        outcome = app(args=argv, prog_name="creditops", standalone_mode=False)
    except typer.Exit as done:
        return done.exit_code
    except SystemExit as done:  # the shell-completion options end the process themselves
        return done.code if isinstance(done.code, int) else 0
    except typer.Abort:
        errors.print("aborted")
        return 130
    except typer.TyperException as usage:
        show = getattr(usage, "show", None)
        if show is not None:
            show(file=sys.stderr)
        else:
            errors.print(f"error: {usage.format_message()}", markup=False)
        return usage.exit_code
    except CreditopsError as error:
        _print_error(error)
        return error.exit_code
    except OSError as error:  # a read-only workspace, a file where a folder should be: one line, not a traceback
        refused = file_refusal(error)
        if refused is None:
            raise
        _print_error(refused)
        return refused.exit_code
    except Exception as error:
        refusal = _store_refusal(error)
        if refusal is None:
            raise
        _print_error(refusal)
        return refusal.exit_code
    return outcome if isinstance(outcome, int) else 0


def _store_refusal(error: Exception) -> CreditopsError | None:
    """A 401/403 from an authenticated team store, as one line naming the role that may act."""
    if getattr(error, "error_code", None) is None:
        return None  # not an MLflow error: no need to load the store's modules
    from creditops.tracking.team_users import refusal

    return refusal(error)


def _print_error(error: CreditopsError) -> None:
    from rich.markup import escape

    from creditops.data.checks import DataCheckError

    if isinstance(error, DataCheckError):
        from creditops.views import check_failures

        errors.print(check_failures(error.failures))
    said = escape(str(error))  # a message's own brackets ('creditops[azure]') are text, not markup
    if error.exit_code == 3:  # awaiting approval: a stop, not a failure
        errors.print(f"[yellow]{said}[/yellow]", markup=True, highlight=False, soft_wrap=True)
        return
    errors.print(f"[red]error:[/red] {said}", markup=True, highlight=False, soft_wrap=True)
