"""`creditops runs`: the MLflow runs of the store, newest first."""

from typing import Annotated

import typer

from creditops.cli.app import CommandEnv, OutputOption, console, emit_json, group, group_context
from creditops.context import redacted

runs_app = group("runs", "Recent MLflow runs: what each did, how it ended, its ROC AUC.", environment_option=True)


@runs_app.command("list")
def runs_list(
    ctx: typer.Context,
    limit: Annotated[int, typer.Option("--limit", "-n", help="How many runs to show, newest first (1 to 50000)")] = 20,
    env: CommandEnv = None,
    output: OutputOption = "table",
) -> None:
    """List recent runs, newest first: when, name, status, what each did (registered version N, registered
    nothing and why, scored a batch), commit, time recorded and ROC AUC on the test split. Read-only: a run
    whose process is gone is shown as killed, not marked so in the store."""
    from creditops.tracking.run_history import recent_runs
    from creditops.views import runs_table

    context = group_context(ctx, env)
    store = context.store_uri
    found = recent_runs(store, limit)
    if output == "json":
        emit_json({"store": redacted(store), "runs": [run.as_dict() for run in found]})
        return
    if not found:
        environment = context.environment.name if context.environment is not None else "dev"
        first = "creditops run" if environment == "dev" else f"creditops ci release --env {environment}"
        console.print(f"no runs yet in {redacted(store)}; run '{first}'", highlight=False, soft_wrap=True)
        return
    console.print(runs_table(found))
