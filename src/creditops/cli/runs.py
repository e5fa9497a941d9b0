"""`creditops runs`: the MLflow runs of the store, newest first."""

from typing import Annotated

import typer

from creditops.cli.app import CommandEnv, OutputOption, console, emit_json, group, group_context
from creditops.context import redacted

runs_app = group("runs", "Recent MLflow runs: what each did, how it ended, its ROC AUC.", environment_option=True)


@runs_app.command("list")
def runs_list(
    ctx: typer.Context,
    limit: Annotated[int, typer.Option("--limit", "-n", help="How many runs to show, newest first (1 or more)")] = 20,
    env: CommandEnv = None,
    output: OutputOption = "table",
) -> None:
    """List recent runs, newest first: when, name, status, what each did (registered version N, registered
    nothing and why, scored a batch), commit, duration and ROC AUC on the test split."""
    from creditops.tracking.run_history import recent_runs
    from creditops.views import runs_table

    store = group_context(ctx, env).store_uri
    found = recent_runs(store, limit)
    if output == "json":
        emit_json({"store": redacted(store), "runs": [run.as_dict() for run in found]})
        return
    if not found:
        console.print(f"no runs yet in {redacted(store)}; run 'creditops run'", highlight=False, soft_wrap=True)
        return
    console.print(runs_table(found))
