"""Local endpoints and deployments, as `az ml online-endpoint` / `online-deployment` manage them.

An endpoint is a router process on one port plus one `creditops serve` process per deployment, all
detached, with their logs and the endpoint state in the workspace.
"""

import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import numpy as np
import orjson

from creditops.context import Context
from creditops.data.io import read_table
from creditops.data.schema import FEATURES
from creditops.endpoints import processes, state
from creditops.endpoints.decisions import checked_weights
from creditops.endpoints.smoke import SmokeReport, post, smoke_test
from creditops.endpoints.state import Deployment, Endpoint
from creditops.errors import CreditopsError
from creditops.tracking.registry import Registry, locate


def create(context: Context, name: str, port: int | None = None, auth: str = "key") -> Endpoint:
    """Create the endpoint and start its router."""
    if auth not in ("key", "none"):
        raise CreditopsError(f"unknown auth {auth!r}: use key or none")
    if state.exists(context.endpoints_dir, name):
        raise CreditopsError(f"endpoint {name!r} exists already: see 'creditops endpoint show {name}'")
    port = port or processes.free_port()
    if processes.port_in_use(port):
        raise CreditopsError(f"port {port} is in use: choose another --port")
    endpoint = Endpoint(name=name, port=port, auth=auth)
    if auth == "key":
        state.new_key(context.endpoints_dir, name)
    state.save(context.endpoints_dir, endpoint)
    try:
        _start_router(context, endpoint)
    except CreditopsError:
        shutil.rmtree(state.folder(context.endpoints_dir, name), ignore_errors=True)
        raise
    return endpoint


def start(context: Context, name: str) -> Endpoint:
    """Bring an endpoint back after a restart: same address, deployments and weights."""
    endpoint = state.load(context.endpoints_dir, name)
    for deployment in list(endpoint.deployments.values()):
        if not processes.alive(deployment.pid):
            fresh = _start_deployment(context, endpoint, deployment.name, deployment.model_uri, deployment.workers)
            endpoint.deployments[deployment.name] = fresh
            state.save(context.endpoints_dir, endpoint)
    if not processes.alive(endpoint.router_pid):
        _start_router(context, endpoint)
    return endpoint


def deploy(context: Context, name: str, deployment: str, model_uri: str, workers: int = 1) -> Deployment:
    """Start (or replace) a deployment serving `model_uri`; its traffic weight is kept (0 if new)."""
    endpoint = state.load(context.endpoints_dir, name)
    state.valid_name("deployment", deployment)
    fresh = _start_deployment(context, endpoint, deployment, model_uri, workers)
    old = endpoint.deployments.get(deployment)
    endpoint.deployments[deployment] = fresh
    endpoint.traffic.setdefault(deployment, 0)
    state.save(context.endpoints_dir, endpoint)
    if old is not None:
        processes.stop(old.pid)
    return fresh


def set_traffic(context: Context, name: str, weights: dict[str, int]) -> Endpoint:
    """Set the traffic weights (percent, summing to 100); deployments left out get 0."""
    endpoint = state.load(context.endpoints_dir, name)
    endpoint.traffic = checked_weights(weights, endpoint.deployments, name)
    state.save(context.endpoints_dir, endpoint)
    return endpoint


def remove_deployment(context: Context, name: str, deployment: str) -> None:
    """Stop a deployment that has no traffic and forget it."""
    endpoint = state.load(context.endpoints_dir, name)
    if deployment not in endpoint.deployments:
        raise CreditopsError(f"no deployment named {deployment} on endpoint {name}")
    if endpoint.traffic.get(deployment, 0) > 0:
        raise CreditopsError(f"deployment {deployment} still has {endpoint.traffic[deployment]}% of the traffic")
    gone = endpoint.deployments.pop(deployment)
    endpoint.traffic.pop(deployment, None)
    state.save(context.endpoints_dir, endpoint)
    processes.stop(gone.pid)


def invoke(context: Context, name: str, body: bytes, deployment: str | None = None) -> httpx.Response:
    endpoint = state.load(context.endpoints_dir, name)
    return post(endpoint.url, body, api_key=state.read_key(context.endpoints_dir, name), deployment=deployment)


def send_rows(
    context: Context, name: str, data: Path, deployment: str | None = None, batch: int = 500
) -> tuple[int, float]:
    """Score every row of a data file through the endpoint; the row count and mean probability."""
    frame = read_table(data)
    missing = [name for name in FEATURES if name not in frame]
    if missing:
        raise CreditopsError(f"{data} lacks the feature column(s) {', '.join(missing)}")
    values = np.ascontiguousarray(frame[list(FEATURES)].to_numpy())
    probabilities: list[float] = []
    for start in range(0, len(values), batch):
        body = {"dataframe_split": {"columns": list(FEATURES), "data": values[start : start + batch]}}
        answer = invoke(context, name, orjson.dumps(body, option=orjson.OPT_SERIALIZE_NUMPY), deployment)
        if answer.status_code != 200:
            raise CreditopsError(f"rows {start}..{start + batch - 1} of {data}: {answer.text[:300]}")
        probabilities.extend(row["probability"] for row in answer.json()["predictions"])
    return len(probabilities), float(sum(probabilities) / max(1, len(probabilities)))


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
    """The endpoint and the health of its router and each deployment."""
    endpoint = state.load(context.endpoints_dir, name)
    report = [Health("router", processes.alive(endpoint.router_pid), f"pid {endpoint.router_pid}")]
    for deployment in endpoint.deployments.values():
        report.append(Health(deployment.name, *_probe(deployment)))
    return endpoint, report


def delete(context: Context, name: str, *, keep_logs: bool = False) -> None:
    """Stop every process of the endpoint, free its port and forget it; its logs too, unless `keep_logs`."""
    endpoint = state.load(context.endpoints_dir, name)
    for deployment in endpoint.deployments.values():
        processes.stop(deployment.pid)
    processes.stop(endpoint.router_pid)
    deadline = time.monotonic() + 5
    while processes.port_in_use(endpoint.port) and time.monotonic() < deadline:
        time.sleep(0.05)
    folder = state.folder(context.endpoints_dir, name)
    if not keep_logs:
        shutil.rmtree(folder, ignore_errors=True)
        return
    for path in folder.iterdir():
        if path.name not in state.LOG_FOLDERS:
            shutil.rmtree(path) if path.is_dir() else path.unlink()


def _start_router(context: Context, endpoint: Endpoint) -> None:
    log = state.logs(context.endpoints_dir, endpoint.name) / "router.log"
    key = state.read_key(context.endpoints_dir, endpoint.name)
    state_path = state.folder(context.endpoints_dir, endpoint.name) / state.STATE_FILE
    arguments = ["creditops.endpoints.router", "--name", endpoint.name, "--state", str(state_path)]
    secrets = {**context.child_environ(), "CREDITOPS_ENDPOINT_KEY": key or ""}
    pid = processes.start([*arguments, "--port", str(endpoint.port)], log, env=secrets)
    processes.wait_listening(endpoint.port, pid, log)
    endpoint.router_pid = pid
    state.save(context.endpoints_dir, endpoint)


def _start_deployment(
    context: Context, endpoint: Endpoint, deployment: str, model_uri: str, workers: int
) -> Deployment:
    pinned = locate(Registry(context.store_uri), model_uri)
    model_uri, version = pinned.uri, pinned.version_label
    port = processes.free_port()
    log = state.logs(context.endpoints_dir, endpoint.name) / f"{deployment}.log"
    arguments = ["creditops", "serve", "--model", model_uri, "--port", str(port), "--workers", str(workers)]
    requests = state.requests(context.endpoints_dir, endpoint.name)
    settings = None if context.environment is None else context.environment.endpoint
    on_invalid = "reject" if settings is None else settings.on_invalid
    cap = "200" if settings is None else str(settings.request_log_max_mb)
    extra = ["--deployment", deployment, "--request-log", str(requests), "--on-invalid", on_invalid]
    extra += ["--request-log-max-mb", cap]
    pid = processes.start([*arguments, *extra], log, env=context.child_environ())
    processes.wait_until(f"http://127.0.0.1:{port}/ready", pid, log)
    return Deployment(deployment, model_uri, version, port, pid, workers)


def _probe(deployment: Deployment) -> tuple[bool, str]:
    if not processes.alive(deployment.pid):
        return False, f"process {deployment.pid} is not running"
    try:
        answer = httpx.get(f"http://127.0.0.1:{deployment.port}/ready", timeout=2.0)
    except httpx.HTTPError as error:
        return False, f"not answering: {error}"
    return answer.status_code == 200, f"port {deployment.port}, model version {deployment.model_version}"
