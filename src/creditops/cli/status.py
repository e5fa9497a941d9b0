"""`creditops status`: every environment on one screen."""

from typing import Annotated

import typer

from creditops.cli.app import OutputOption, app, console, context_for, emit_json
from creditops.config.environments import ENVIRONMENTS


@app.command("status")
def status(
    env: Annotated[str | None, typer.Option("--env", help="One environment (default: all of them)")] = None,
    output: OutputOption = "table",
) -> None:
    """Per environment: the store, champion and challenger, the version awaiting approval, the endpoint
    with its deployments, traffic and health, and the last drift check. Exit 1 when a store could not be
    read or the champion alias, the approvals ledger and the endpoint disagree."""
    from creditops.flow.status import environment_status
    from creditops.views import status_tables

    chosen = (env,) if env is not None else ENVIRONMENTS
    statuses = [environment_status(context_for(name)) for name in chosen]
    if output == "json":
        emit_json([item.as_dict() for item in statuses])
    else:
        for table in status_tables(statuses):
            console.print(table)
    if any(problem.startswith(FAILING) for item in statuses for problem in item.problems):
        raise typer.Exit(1)


FAILING = ("store:", "custody:")
"""The problems that make `status` fail: a store that did not answer, a champion that may not serve."""
