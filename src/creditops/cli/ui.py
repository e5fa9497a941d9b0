"""`creditops ui`: MLflow's UI on an environment's store, to browse its runs and versions."""

import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from creditops import processes
from creditops.cli.app import app, console, context_for
from creditops.context import redacted
from creditops.errors import CreditopsError


@app.command("ui")
def ui(
    env: Annotated[
        str | None, typer.Option("--env", help="dev, staging or prod (default: the local workspace)")
    ] = None,
    port: Annotated[
        int | None, typer.Option(min=1, max=65535, help="Port on 127.0.0.1 (default: 5000, else free)")
    ] = None,
) -> None:
    """Start the MLflow UI on the store of an environment (or of the local workspace); Ctrl-C stops it."""
    from creditops.tracking.server import quiet_warnings

    context = context_for(env)
    where = f"the {env} store" if env else "the workspace's store"
    if context.store_uri.startswith(("http://", "https://")):
        console.print(f"{where} is an MLflow server: its UI is at {redacted(context.store_uri)}", soft_wrap=True)
        return
    if context.store_uri.startswith("sqlite:///") and not Path(context.store_uri.removeprefix("sqlite:///")).is_file():
        hint = f"creditops ci release --env {env}" if env else "creditops run"
        raise CreditopsError(f"{where} does not exist yet ({redacted(context.store_uri)}): run '{hint}' first")
    chosen = port or (5000 if not processes.port_in_use(5000) else processes.free_port())
    if processes.port_in_use(chosen):
        raise CreditopsError(f"port {chosen} is in use: choose another --port")
    console.print(
        f"MLflow UI for {where} at http://127.0.0.1:{chosen} (press Ctrl-C to stop it)", highlight=False, soft_wrap=True
    )
    command = [sys.executable, "-m", "mlflow", "ui", "--backend-store-uri", context.store_uri]
    command += ["--host", "127.0.0.1", "--port", str(chosen), "--workers", "1"]
    environ = {**os.environ, "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false", **quiet_warnings(os.environ)}
    stopped_by = processes.run_attached(command, env=environ)  # Ctrl-C or a kill of this pid stops MLflow too
    if stopped_by is not None:
        console.print("MLflow UI stopped", highlight=False)
