"""The local target's processes: the front door started detached, the wait until every worker serves a
change, and what a command refused by an endpoint's change lock is told."""

import os
import shutil
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from creditops import processes
from creditops.context import Context
from creditops.endpoints import state
from creditops.endpoints.state import Endpoint
from creditops.errors import CreditopsError
from creditops.files import read_json
from creditops.interruption import check

APPLY_SECONDS = 90.0


def holder(name: str, what: str) -> str:
    """What a command refused by the endpoint's change lock is told about the one holding it."""
    since = datetime.now(tz=UTC).strftime("%H:%M:%S")
    return (
        f"endpoint {name} is busy: {what} (pid {os.getpid()}, since {since} UTC) is running;"
        " wait for it to finish, or stop it with Ctrl-C (its traffic change is undone)"
    )


def port_holder(context: Context, port: int) -> str | None:
    """Which running endpoint of this workspace or a sibling environment's holds `port`, if one does: dev's
    workspace is the home folder, the others' are its envs/NAME."""
    workspace = context.workspace
    home = workspace.parent.parent if workspace.parent.name == "envs" else workspace
    found = [*home.glob(f"endpoints/*/{state.STATE_FILE}"), *home.glob(f"envs/*/endpoints/*/{state.STATE_FILE}")]
    for path in sorted(found):
        try:
            endpoint = state.read_state(path)
        except (CreditopsError, OSError, ValueError):
            continue
        if endpoint.port == port and processes.alive(endpoint.pid):
            return f"endpoint {endpoint.name} (workspace {path.parents[2]})"
    return None


def apply(context: Context, endpoint: Endpoint, *, stoppable: bool = False) -> dict[str, str]:
    """Save the state and wait until every worker serves it; the deployments a worker failed to load.

    A `stoppable` change stops waiting when Ctrl-C or SIGTERM asks (its caller undoes it); a restore
    is not stoppable, so it always completes."""
    state.save(context.endpoints_dir, endpoint)
    if not processes.alive(endpoint.pid):
        raise CreditopsError(
            f"endpoint {endpoint.name} is not running: start it with 'creditops endpoint start {endpoint.name}'"
        )
    deadline = time.monotonic() + APPLY_SECONDS
    while time.monotonic() < deadline:
        workers = supervision(context, endpoint.name).get("workers", [])
        reports = worker_reports(context, endpoint.name, workers)
        if workers and len(reports) == len(workers) and all(r["generation"] >= endpoint.generation for r in reports):
            return {dep: error for report in reports for dep, error in report["failed"].items()}
        if not processes.alive(endpoint.pid):
            break
        if stoppable:
            check()
        time.sleep(0.02)
    log = state.logs(context.endpoints_dir, endpoint.name) / state.LOG_FILE
    raise CreditopsError(f"endpoint {endpoint.name} did not take the change within {APPLY_SECONDS:g} s; see {log}")


def supervision(context: Context, name: str) -> dict[str, Any]:
    """What the endpoint's supervisor last wrote: its workers, restarts and last exit."""
    path = state.run(context.endpoints_dir, name) / "supervisor.json"
    try:
        found = read_json(path)
    except (OSError, ValueError):
        return {}
    return found if isinstance(found, dict) else {}


def worker_reports(context: Context, name: str, workers: object) -> list[dict[str, Any]]:
    """What each of `workers` last wrote: the state generation it serves and the deployments it failed."""
    reports: list[dict[str, Any]] = []
    for pid in workers if isinstance(workers, list) else []:
        try:
            reports.append(read_json(state.run(context.endpoints_dir, name) / f"worker-{pid}.json"))
        except (OSError, ValueError):
            continue
    return reports


def start_front_door(context: Context, endpoint: Endpoint) -> None:
    endpoints = context.endpoints_dir
    log = state.logs(endpoints, endpoint.name) / state.LOG_FILE
    key = state.read_key(endpoints, endpoint.name)
    settings = None if context.environment is None else context.environment.endpoint
    on_invalid = "reject" if settings is None else settings.on_invalid
    cap = "200" if settings is None else str(settings.request_log_max_mb)
    arguments = [
        "creditops.endpoints.front_door",
        *("--state", str(state.folder(endpoints, endpoint.name) / state.STATE_FILE)),
        *("--port", str(endpoint.port)),
        *("--request-log", str(state.requests(endpoints, endpoint.name))),
        *("--on-invalid", on_invalid, "--request-log-max-mb", cap),
    ]
    secrets = {**context.child_environ(), "CREDITOPS_ENDPOINT_KEY": key or ""}
    shutil.rmtree(state.run(endpoints, endpoint.name), ignore_errors=True)
    pid = processes.start(arguments, log, env=secrets)
    processes.wait_listening(endpoint.port, pid, log)
    endpoint.pid = pid
    apply(context, endpoint)


def remove_folder_but_lock(folder: Path) -> None:
    for path in folder.iterdir() if folder.is_dir() else []:
        if path.name != "lock":
            shutil.rmtree(path, ignore_errors=True) if path.is_dir() else path.unlink(missing_ok=True)
