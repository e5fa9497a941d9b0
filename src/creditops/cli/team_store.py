"""`creditops server`: a team MLflow store on PostgreSQL, for a team or CI runners to share."""

from pathlib import Path
from typing import Annotated

import typer

from creditops.cli.app import api_key, console, context_for, group
from creditops.errors import CreditopsError

server_app = group("server", "A team MLflow tracking server on PostgreSQL (start, stop, status).")


@server_app.command("start")
def server_start(
    port: Annotated[
        int | None,
        typer.Option(min=1, max=65535, help="MLflow server port; default: the one kept since the first start"),
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
    data_dir: Annotated[
        Path | None,
        typer.Option(help="Where the cluster keeps its data, chosen on the first start; default: the workspace"),
    ] = None,
    postgres_port: Annotated[
        int | None,
        typer.Option(min=1, max=65535, help="PostgreSQL's port; default: the one kept since the first start"),
    ] = None,
) -> None:
    """Start an MLflow server on PostgreSQL with proxied artifacts, and say how to point environments at it."""
    from creditops.tracking import server

    store = server.start(
        context_for().workspace,
        port=port,
        backend_uri=backend_store_uri,
        artifacts=artifacts,
        data_dir=data_dir,
        postgres_port=postgres_port,
    )
    data = f"; its data in {store.postgres_data}" if store.postgres_data else ""
    console.print(
        f"MLflow team store on {store.tracking_uri} (database {store.backend}{data}; artifacts in {store.artifacts})"
    )
    console.print(
        f"point an environment at it: export PROD_MLFLOW_TRACKING_URI={store.tracking_uri}"
        " (STAGING_… for staging; CI keeps it as a secret; this port is kept across restarts)",
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
    """Stop the MLflow server and the PostgreSQL cluster it started (their data and ports stay for the next start)."""
    from creditops.tracking import server

    store = server.stop(context_for().workspace)
    console.print("no team store was running" if store is None else f"stopped the team store on {store.tracking_uri}")


users_app = typer.Typer(
    help="Team store accounts and their roles: viewer, trainer, approver, admin.", no_args_is_help=True
)
server_app.add_typer(users_app, name="users")


def _admin() -> tuple[str, tuple[str, str]]:
    """The running store's URI and its admin credentials (this workspace's server)."""
    from creditops.tracking import server

    workspace = context_for().workspace
    store, healthy = server.status(workspace)
    if store is None or not healthy:
        raise CreditopsError("no team store runs in this workspace: start it with 'creditops server start'")
    return store.tracking_uri, server.admin_credentials(workspace)


@users_app.command("add")
def users_add(
    name: Annotated[str, typer.Argument(help="Account name")],
    role: Annotated[str, typer.Option(help="viewer, trainer, approver or admin")],
    password_env: Annotated[
        str | None, typer.Option(help="Variable holding the password; default: one is made and printed once")
    ] = None,
) -> None:
    """Add an account with a role on the project's registered model."""
    import secrets

    from creditops.tracking import team_users

    uri, admin = _admin()
    password = (api_key(password_env) if password_env else None) or secrets.token_urlsafe(18)
    team_users.add(uri, admin, name, password, role, context_for().model_name)
    console.print(f"added {name} as {role}", highlight=False)
    if not password_env:
        console.print(f"password (shown once, give it to {name}): {password}", highlight=False, soft_wrap=True)


@users_app.command("set-role")
def users_set_role(
    name: Annotated[str, typer.Argument(help="Account name")],
    role: Annotated[str, typer.Argument(help="viewer, trainer, approver or admin")],
) -> None:
    """Give an account exactly this role."""
    from creditops.tracking import team_users

    uri, admin = _admin()
    team_users.set_role(uri, admin, name, role, context_for().model_name)
    console.print(f"{name} is now {role}", highlight=False)


@users_app.command("show")
def users_show(name: Annotated[str, typer.Argument(help="Account name")]) -> None:
    """The role an account holds."""
    from creditops.tracking import team_users

    uri, admin = _admin()
    console.print(f"{name}: {team_users.role_of(uri, admin, name)}", highlight=False)


@users_app.command("remove")
def users_remove(name: Annotated[str, typer.Argument(help="Account name")]) -> None:
    """Remove an account."""
    from creditops.tracking import team_users

    uri, admin = _admin()
    team_users.remove(uri, admin, name)
    console.print(f"removed {name}", highlight=False)


@server_app.command("credentials")
def server_credentials() -> None:
    """Print the admin account of this workspace's team store (made on first start, never printed otherwise)."""
    from creditops.tracking import server

    user, password = server.admin_credentials(context_for().workspace)
    console.print(f"MLFLOW_TRACKING_USERNAME={user}\nMLFLOW_TRACKING_PASSWORD={password}", highlight=False)
