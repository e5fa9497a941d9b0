"""Local endpoints and deployments, as `az ml online-endpoint` / `online-deployment` manage them.

An endpoint is one front-door process on one port (a supervisor and its forked workers, started
detached, with its logs and state in the workspace). Every worker holds every deployment's model, from
the endpoint's own copy of the model files. A change (deploy, traffic, mirror) is written to the
state; it is done when every worker reports it serves that state. Changes to one endpoint are made one
at a time: a second command is refused with one line naming the running one.
"""

import os
import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import orjson
import pandas as pd

from creditops import processes
from creditops.context import Context
from creditops.data.io import read_table
from creditops.endpoints import state
from creditops.endpoints.decisions import checked_weights
from creditops.endpoints.smoke import SmokeReport, post, smoke_test
from creditops.endpoints.state import Deployment, Endpoint, RolloutPlan
from creditops.errors import CreditopsError
from creditops.files import atomic_path, claimed_lock, read_json
from creditops.interruption import Interrupted, check, cooperative
from creditops.say import Say
from creditops.serving.validation import ValueRules
from creditops.tracking import names

APPLY_SECONDS = 90.0


@contextmanager
def busy(context: Context, name: str, what: str, say: Say = print) -> Iterator[None]:
    """Hold the endpoint's change lock for `what`; first undo any rollout a killed process left unfinished."""
    folder = state.folder(context.endpoints_dir, name)
    if not (folder / state.STATE_FILE).is_file() and what != "create":
        state.load(context.endpoints_dir, name)  # the one-line "no endpoint named …"
    with claimed_lock(folder / "lock", _holder(name, what)):
        if what != "create":
            restored = recover_unlocked(context, name)
            if restored:
                say(restored)
        yield


def _holder(name: str, what: str) -> str:
    """What a command refused by the endpoint's change lock is told about the one holding it."""
    since = datetime.now(tz=UTC).strftime("%H:%M:%S")
    return (
        f"endpoint {name} is busy: {what} (pid {os.getpid()}, since {since} UTC) is running;"
        " wait for it to finish, or stop it with Ctrl-C (its traffic change is undone)"
    )


def create(context: Context, name: str, port: int | None = None, auth: str = "key", workers: int = 1) -> Endpoint:
    """Create the endpoint and start its front door."""
    if auth not in ("key", "none"):
        raise CreditopsError(f"unknown auth {auth!r}: use key or none")
    try:
        return _create(context, name, port, auth, workers)
    finally:
        folder = state.folder(context.endpoints_dir, name)
        if not (folder / state.STATE_FILE).is_file():
            shutil.rmtree(folder, ignore_errors=True)


def _create(context: Context, name: str, port: int | None, auth: str, workers: int) -> Endpoint:
    with busy(context, name, "create"):
        if state.exists(context.endpoints_dir, name):
            raise CreditopsError(f"endpoint {name!r} exists already: see 'creditops endpoint show {name}'")
        port = port or processes.free_port()
        if processes.port_in_use(port):
            raise CreditopsError(f"port {port} is in use: choose another --port")
        endpoint = Endpoint(name=name, port=port, auth=auth, workers=workers)
        if auth == "key":
            state.new_key(context.endpoints_dir, name)
        try:
            state.save(context.endpoints_dir, endpoint)
            _start_front_door(context, endpoint)
        except BaseException:
            processes.stop(endpoint.pid)
            _remove_folder_but_lock(state.folder(context.endpoints_dir, name))
            raise
    return endpoint


def log_tail(context: Context, name: str, lines: int = 50, deployment: str | None = None) -> tuple[Path, list[str]]:
    """The last `lines` lines of the endpoint's log (its supervisor, workers and every deployment in them),
    or of those that name `deployment`."""
    endpoint = state.load(context.endpoints_dir, name)
    if deployment is not None and deployment not in endpoint.deployments:
        known = ", ".join(endpoint.deployments) or "none"
        raise CreditopsError(f"no deployment named {deployment} on endpoint {name} (its deployments: {known})")
    path = state.logs(context.endpoints_dir, name) / "front-door.log"
    if not path.is_file():
        return path, []
    window = 256 * lines * (20 if deployment else 1) + 4096
    with path.open("rb") as log:
        log.seek(max(0, path.stat().st_size - window))
        text = log.read().decode("utf-8", errors="replace")
    found = [line for line in text.splitlines() if deployment is None or deployment in line]
    return path, found[-lines:]


def port_holder(context: Context, port: int) -> str | None:
    """Which running endpoint of this workspace or a sibling environment's holds `port`, if one does."""
    for path in sorted(context.workspace.parent.glob(f"*/endpoints/*/{state.STATE_FILE}")):
        try:
            endpoint = state.read_state(path)
        except (CreditopsError, OSError, ValueError):
            continue
        if endpoint.port == port and processes.alive(endpoint.pid):
            return f"endpoint {endpoint.name} (workspace {path.parents[2]})"
    return None


def start(context: Context, name: str, admit: Callable[[str], str | None] | None = None, say: Say = print) -> Endpoint:
    """Bring an endpoint back after a restart: same address, deployments and weights. With `admit`, a
    deployment whose model it refuses (withdrawn or unapproved since the endpoint stopped) starts with
    no traffic, so it never serves again unseen; its share goes to no one."""
    with busy(context, name, "start"):
        endpoint = state.load(context.endpoints_dir, name)
        if not processes.alive(endpoint.pid):
            for deployment in endpoint.deployments.values():
                refused = admit(deployment.model_uri) if admit and endpoint.traffic.get(deployment.name) else None
                if refused is not None:
                    endpoint.traffic[deployment.name] = 0
                    say(f"{deployment.name} starts with no traffic: {refused}")
            _start_front_door(context, endpoint)
        return state.load(context.endpoints_dir, name)


def deploy(context: Context, name: str, deployment: str, model_uri: str, workers: int | None = None) -> Deployment:
    """Start (or replace) a deployment serving `model_uri`; its traffic weight is kept (0 if new)."""
    with busy(context, name, f"deploy of {deployment}"):
        return deploy_unlocked(context, name, deployment, model_uri, workers)


def deploy_unlocked(
    context: Context, name: str, deployment: str, model_uri: str, workers: int | None = None
) -> Deployment:
    """`deploy`, for a caller that holds the endpoint's lock."""
    endpoint = state.load(context.endpoints_dir, name)
    state.valid_name("deployment", deployment)
    fresh = _materialise(context, name, deployment, model_uri)
    old = endpoint.deployments.get(deployment)
    endpoint.deployments[deployment] = fresh
    endpoint.traffic.setdefault(deployment, 0)
    if workers is not None:
        endpoint.workers = workers
    try:
        failed = apply(context, endpoint, stoppable=True).get(deployment)
    except BaseException:
        _forget(context, name, deployment, old)
        raise
    if failed is not None:
        _forget(context, name, deployment, old)
        raise CreditopsError(f"deployment {deployment} did not load: {failed}")
    if old is not None and old.model_dir != fresh.model_dir:
        shutil.rmtree(old.model_dir, ignore_errors=True)
    return fresh


def set_traffic(context: Context, name: str, weights: dict[str, int]) -> Endpoint:
    """Set the traffic weights (percent, summing to 100); deployments left out get 0. Ctrl-C or SIGTERM
    before every worker serves them puts the previous weights back."""
    with busy(context, name, "traffic change"), cooperative():
        before = state.load(context.endpoints_dir, name).traffic
        try:
            return set_traffic_unlocked(context, name, weights)
        except Interrupted as stop:
            endpoint = state.load(context.endpoints_dir, name)
            endpoint.traffic = before
            apply(context, endpoint)
            restored = state.describe_weights(before)
            raise CreditopsError(
                f"traffic change on {name} interrupted ({stop}): traffic restored to {restored}"
            ) from None


def set_traffic_unlocked(context: Context, name: str, weights: dict[str, int]) -> Endpoint:
    endpoint = state.load(context.endpoints_dir, name)
    endpoint.traffic = checked_weights(weights, endpoint.deployments, name)
    apply(context, endpoint, stoppable=True)
    return endpoint


def set_mirror_unlocked(context: Context, name: str, mirror: dict[str, int]) -> Endpoint:
    """Mirror `pct` % of live requests to each named deployment (at most one; {} stops mirroring)."""
    endpoint = state.load(context.endpoints_dir, name)
    for deployment, percent in mirror.items():
        if deployment not in endpoint.deployments:
            raise CreditopsError(f"no deployment named {deployment} on endpoint {name}")
        if not 0 <= percent <= 100:
            raise CreditopsError(f"mirror traffic must be 0..100 percent, not {percent}")
        if endpoint.traffic.get(deployment, 0) > 0:
            raise CreditopsError(f"deployment {deployment} has live traffic: only an idle deployment is mirrored to")
    endpoint.mirror = dict(mirror)
    apply(context, endpoint)
    return endpoint


def remove_deployment(context: Context, name: str, deployment: str) -> None:
    """Forget a deployment that has no traffic."""
    with busy(context, name, f"removal of {deployment}"):
        remove_unlocked(context, name, deployment)


def remove_unlocked(context: Context, name: str, deployment: str) -> None:
    endpoint = state.load(context.endpoints_dir, name)
    if deployment not in endpoint.deployments:
        raise CreditopsError(f"no deployment named {deployment} on endpoint {name}")
    if endpoint.traffic.get(deployment, 0) > 0:
        raise CreditopsError(f"deployment {deployment} still has {endpoint.traffic[deployment]}% of the traffic")
    gone = endpoint.deployments.pop(deployment)
    endpoint.traffic.pop(deployment, None)
    endpoint.mirror.pop(deployment, None)
    apply(context, endpoint)
    shutil.rmtree(gone.model_dir, ignore_errors=True)


def recover(context: Context, name: str) -> str:
    """Undo a rollout whose process was killed; what was done."""
    done: list[str] = []
    with busy(context, name, "recover", say=done.append):
        pass
    return done[0] if done else f"endpoint {name} has no unfinished rollout: nothing to recover"


def recover_unlocked(context: Context, name: str) -> str | None:
    """With the lock held, a rollout plan left in the state belongs to a process that is gone: undo it."""
    endpoint = state.load(context.endpoints_dir, name)
    plan = endpoint.rollout
    if plan is None:
        return None
    restore(context, name, plan)
    return (
        f"an unfinished rollout of {plan.model_uri} (pid {plan.pid}, at '{plan.step}', started {plan.started_at})"
        f" was undone: traffic restored to {plan.weights_before()}"
    )


def restore(context: Context, name: str, plan: RolloutPlan) -> None:
    """Put the traffic back as it was before `plan` and remove the deployment it added."""
    endpoint = state.load(context.endpoints_dir, name)
    endpoint.traffic = {dep: plan.before.get(dep, 0) for dep in endpoint.deployments}
    endpoint.mirror = {}
    added = endpoint.deployments.get(plan.deployment)
    if added is not None and plan.deployment != plan.replaced:
        endpoint.deployments.pop(plan.deployment)
        endpoint.traffic.pop(plan.deployment, None)
    endpoint.rollout = None
    if processes.alive(endpoint.pid):
        apply(context, endpoint)
    else:
        state.save(context.endpoints_dir, endpoint)
    if added is not None and plan.deployment != plan.replaced:
        shutil.rmtree(added.model_dir, ignore_errors=True)


def invoke(context: Context, name: str, body: bytes, deployment: str | None = None) -> httpx.Response:
    endpoint = state.load(context.endpoints_dir, name)
    return post(endpoint.url, body, api_key=state.read_key(context.endpoints_dir, name), deployment=deployment)


def send_rows(
    context: Context, name: str, data: Path, deployment: str | None = None, batch: int = 500
) -> tuple[int, float]:
    """Score every row of a data file through the endpoint; the row count and mean probability.

    The project's data contract says which columns go: its features and the protected columns the file
    has (logged beside the predictions to measure fairness, never scored). A file with an ID column sends
    it as each batch's index, so the request log keeps the IDs that outcomes are joined on later
    (`creditops monitor performance`)."""
    contract = context.modelling.contract()
    frame = read_table(data, contract)
    missing = [name for name in contract.features if name not in frame]
    if missing:
        raise CreditopsError(f"{data} lacks the feature column(s) {', '.join(missing)}")
    columns = tuple(name for name in contract.request_columns if name in frame)
    values = np.ascontiguousarray(contract.encoded(frame, columns))
    _refuse_bad_cells(data, values, ValueRules(contract, columns))
    sent: Any = values if not contract.text_columns else _as_sent(frame, columns)
    id_column = contract.id_column
    ids = frame[id_column].tolist() if id_column is not None and id_column in frame else None
    probabilities: list[float] = []
    for start in range(0, len(values), batch):
        split: dict[str, Any] = {"columns": list(columns), "data": sent[start : start + batch]}
        if ids is not None:
            split["index"] = ids[start : start + batch]
        body = {"dataframe_split": split}
        answer = invoke(context, name, orjson.dumps(body, option=orjson.OPT_SERIALIZE_NUMPY), deployment)
        if answer.status_code != 200:
            raise CreditopsError(f"rows {start}..{start + batch - 1} of {data}: {answer.text[:300]}")
        probabilities.extend(row["probability"] for row in answer.json()["predictions"])
    return len(probabilities), float(sum(probabilities) / max(1, len(probabilities)))


def _as_sent(frame: pd.DataFrame, columns: tuple[str, ...]) -> list[list[Any]]:
    """The rows as JSON takes them: text categories as text, numbers as numbers, an empty cell as null."""
    kept = frame.loc[:, list(columns)].astype(object)
    rows: list[list[Any]] = kept.where(kept.notna(), None).to_numpy().tolist()
    return rows


def _refuse_bad_cells(data: Path, values: np.ndarray, rules: "ValueRules") -> None:
    """Every bad column of the file named at once (its first bad data row each), before anything is sent."""
    names = rules.columns
    finite = np.isfinite(values) | (np.isnan(values) & rules.may_miss)
    found = [(int(row), names[int(column)], "empty or not a number") for row, column in np.argwhere(~finite)]
    for row, reasons in rules.row_problems(np.where(finite, values, 0.0)).items():
        for reason in reasons:
            name, _, why = reason.partition(": ")
            if finite[row, names.index(name)]:
                found.append((row, name, why))
    first: dict[str, str] = {}
    for row, name, why in sorted(found):
        first.setdefault(name, f"row {row + 1}: {why}")
    if first:
        listed = "; ".join(f"{name} {first[name]}" for name in names if name in first)
        raise CreditopsError(f"{data} has bad values in {len(first)} column(s), the first of each: {listed}")


def smoke(
    context: Context, name: str, body: bytes, deployment: str | None = None, max_latency_ms: float = 1_000.0
) -> SmokeReport:
    endpoint = state.load(context.endpoints_dir, name)
    expected = endpoint.deployments[deployment].model_version if deployment in endpoint.deployments else None
    return smoke_test(
        endpoint.url,
        body,
        api_key=state.read_key(context.endpoints_dir, name),
        deployment=deployment,
        max_latency_ms=max_latency_ms,
        expected_version=expected,
    )


@dataclass(frozen=True)
class Health:
    name: str
    healthy: bool
    detail: str


def health(context: Context, name: str) -> tuple[Endpoint, list[Health]]:
    """The endpoint and the health of its front door and each deployment in every worker."""
    endpoint = state.load(context.endpoints_dir, name)
    running = processes.alive(endpoint.pid)
    supervision = _supervision(context, name) if running else {}
    workers = supervision.get("workers", [])
    detail = f"pid {endpoint.pid}, {len(workers)} of {endpoint.workers} worker(s)"
    if supervision.get("restarts"):
        detail += f", {supervision['restarts']} restart(s), last: {supervision.get('last_exit')}"
    if not running:
        detail = f"not running: start it with 'creditops endpoint start {name}'"
    report = [Health("front door", running and bool(workers), detail)]
    if endpoint.rollout is not None:
        plan = endpoint.rollout
        alive = processes.alive(plan.pid)
        what = "running" if alive else f"unfinished (run 'creditops endpoint recover {name}')"
        report.append(Health("rollout", alive, f"{what}: {plan.model_uri} as {plan.deployment}, at '{plan.step}'"))
    reports = _worker_reports(context, name, workers)
    for deployment in endpoint.deployments.values():
        failures = [report["failed"][deployment.name] for report in reports if deployment.name in report["failed"]]
        ok = running and not failures
        text = f"model version {deployment.model_version}" + (f"; {failures[0]}" if failures else "")
        if endpoint.mirror.get(deployment.name):
            text += f"; mirror of {endpoint.mirror[deployment.name]}% of live requests"
        report.append(Health(deployment.name, ok, text))
    return endpoint, report


def delete(context: Context, name: str, *, keep_logs: bool = False) -> None:
    """Stop every process of the endpoint, free its port and forget it; its logs too, unless `keep_logs`.

    The state is read leniently, and no unfinished rollout is undone first: the endpoint goes whole, so
    `delete` is the way out of any state file, even one that is not valid."""
    root = context.endpoints_dir
    folder = state.folder(root, name)
    if not (folder / state.STATE_FILE).is_file():
        state.load(root, name)  # the one-line "no endpoint named …"
    with claimed_lock(folder / "lock", _holder(name, "delete")):
        for pid in state.recorded_pids(root, name):
            processes.stop(pid, marker=str(folder / state.STATE_FILE).encode())
        port = state.recorded_port(root, name)
        deadline = time.monotonic() + 5
        while port is not None and processes.port_in_use(port) and time.monotonic() < deadline:
            time.sleep(0.05)
        for path in folder.iterdir():
            if (keep_logs and path.name in state.LOG_FOLDERS) or path.name == "lock":
                continue
            shutil.rmtree(path) if path.is_dir() else path.unlink()
    if not keep_logs:
        shutil.rmtree(folder, ignore_errors=True)
    else:
        (folder / "lock").unlink(missing_ok=True)


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
        workers = _supervision(context, endpoint.name).get("workers", [])
        reports = _worker_reports(context, endpoint.name, workers)
        if workers and len(reports) == len(workers) and all(r["generation"] >= endpoint.generation for r in reports):
            return {dep: error for report in reports for dep, error in report["failed"].items()}
        if not processes.alive(endpoint.pid):
            break
        if stoppable:
            check()
        time.sleep(0.02)
    log = state.logs(context.endpoints_dir, endpoint.name) / "front-door.log"
    raise CreditopsError(f"endpoint {endpoint.name} did not take the change within {APPLY_SECONDS:g} s; see {log}")


def _supervision(context: Context, name: str) -> dict[str, Any]:
    path = state.run(context.endpoints_dir, name) / "supervisor.json"
    try:
        found = read_json(path)
    except (OSError, ValueError):
        return {}
    return found if isinstance(found, dict) else {}


def _worker_reports(context: Context, name: str, workers: object) -> list[dict[str, Any]]:
    reports: list[dict[str, Any]] = []
    for pid in workers if isinstance(workers, list) else []:
        try:
            reports.append(read_json(state.run(context.endpoints_dir, name) / f"worker-{pid}.json"))
        except (OSError, ValueError):
            continue
    return reports


def _materialise(context: Context, name: str, deployment: str, model_uri: str) -> Deployment:
    """The endpoint's own copy of the model files (a registered version's, as verified against its
    registration), checked to load, with the digests its workers check before they load it."""
    from creditops.tracking import integrity
    from creditops.tracking.registry import Registry, load_model_dir, locate, save_model_dir

    registry = Registry(context.store_uri)
    found = locate(registry, model_uri)
    target = state.models(context.endpoints_dir, name) / f"{deployment}-{found.version_label}-{time.time_ns()}"
    if found.version is None:
        model = registry.load(found.uri)
        with atomic_path(target) as temporary:
            save_model_dir(model, temporary)
    else:
        with registry.verified_files(found.version) as folder, atomic_path(target) as temporary:
            shutil.copytree(folder, temporary)
        load_model_dir(target)
    digests = integrity.file_digests(target)
    if found.version is None:
        return Deployment(deployment, found.uri, "local", Path(found.uri).name, 0.5, str(target), digests)
    threshold = float(found.version.tags.get(names.THRESHOLD, 0.5))
    version = found.version
    return Deployment(deployment, found.uri, version.version, version.name, threshold, str(target), digests)


def _forget(context: Context, name: str, deployment: str, old: Deployment | None) -> None:
    """Undo a deploy that failed: the previous deployment of that name back, or none."""
    endpoint = state.load(context.endpoints_dir, name)
    added = endpoint.deployments.get(deployment)
    if old is None:
        endpoint.deployments.pop(deployment, None)
        endpoint.traffic.pop(deployment, None)
    else:
        endpoint.deployments[deployment] = old
    state.save(context.endpoints_dir, endpoint)
    if added is not None and (old is None or added.model_dir != old.model_dir):
        shutil.rmtree(added.model_dir, ignore_errors=True)


def _start_front_door(context: Context, endpoint: Endpoint) -> None:
    endpoints = context.endpoints_dir
    log = state.logs(endpoints, endpoint.name) / "front-door.log"
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


def _remove_folder_but_lock(folder: Path) -> None:
    for path in folder.iterdir() if folder.is_dir() else []:
        if path.name != "lock":
            shutil.rmtree(path, ignore_errors=True) if path.is_dir() else path.unlink(missing_ok=True)
