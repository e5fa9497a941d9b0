"""`creditops server`: a team MLflow store on PostgreSQL, for a team or CI runners to share."""

from pathlib import Path
from typing import Annotated

import typer

from creditops.cli.app import console, context_for, group

server_app = group("server", "A team MLflow tracking server on PostgreSQL (start, stop, status).")


@server_app.command("start")
def server_start(
    port: Annotated[
        int | None, typer.Option(min=1, max=65535, help="MLflow server port; a free one when omitted")
    ] = None,
    backend_store_uri: Annotated[
        str | None,
        typer.Option(
            help="An existing PostgreSQL (postgresql://USER@HOST:PORT/DB); default: a cluster in the workspace"
        ),
    ] = None,
    artifacts: Annotated[
        Path | None, typer.Option(help="Where the server keeps artifacts it proxies; default: the workspace")
    ] = None,
) -> None:
    """Start an MLflow server on PostgreSQL with proxied artifacts, and say how to point environments at it."""
    from creditops.tracking import server

    store = server.start(context_for().workspace, port=port, backend_uri=backend_store_uri, artifacts=artifacts)
    console.print(
        f"MLflow team store on {store.tracking_uri} (database {store.backend}, artifacts in {store.artifacts})"
    )
    console.print(
        f"point an environment at it: export PROD_MLFLOW_TRACKING_URI={store.tracking_uri}"
        " (STAGING_… for staging; CI keeps it as a secret)",
        soft_wrap=True,
        highlight=False,
    )


@server_app.command("status")
def server_status() -> None:
    """Whether the team store runs, and where."""
    from creditops.tracking import server

    store, healthy = server.status(context_for().workspace)
    if store is None:
        console.print("no team store in this workspace: start one with 'creditops server start'")
        raise typer.Exit(1)
    state = "[green]running[/green]" if healthy else "[red]not answering[/red]"
    console.print(
        f"{store.tracking_uri}: {state} (pid {store.pid}; database {store.backend}; artifacts {store.artifacts})"
    )
    if not healthy:
        raise typer.Exit(1)


@server_app.command("stop")
def server_stop() -> None:
    """Stop the MLflow server and the PostgreSQL cluster it started (their data stays for the next start)."""
    from creditops.tracking import server

    store = server.stop(context_for().workspace)
    console.print("no team store was running" if store is None else f"stopped the team store on {store.tracking_uri}")
