"""Local endpoints and deployments, as `az ml online-endpoint` / `online-deployment` manage them.

An endpoint is a router process on one port plus one `creditops serve` process per deployment, all
detached, with their logs and the endpoint state in the workspace.
"""

import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx
import numpy as np
import orjson

from creditops.data.io import read_table
from creditops.data.schema import FEATURES
from creditops.endpoints import processes, state
from creditops.endpoints.smoke import SmokeReport, post, smoke_test
from creditops.endpoints.state import Deployment, Endpoint
from creditops.errors import CreditopsError
from creditops.tracking import registry
from creditops.tracking.store import tracking_uri

BLUE_GREEN = ("blue", "green")
Say = Callable[[str], None]


def create(name: str, port: int | None = None, auth: str = "key") -> Endpoint:
    """Create the endpoint and start its router."""
    if auth not in ("key", "none"):
        raise CreditopsError(f"unknown auth {auth!r}: use key or none")
    if state.exists(name):
        raise CreditopsError(f"endpoint {name!r} exists already: see 'creditops endpoint show {name}'")
    port = port or processes.free_port()
    if processes.port_in_use(port):
        raise CreditopsError(f"port {port} is in use: choose another --port")
    endpoint = Endpoint(name=name, port=port, auth=auth)
    if auth == "key":
        state.new_key(name)
    state.save(endpoint)
    try:
        _start_router(endpoint)
    except CreditopsError:
        shutil.rmtree(state.folder(name), ignore_errors=True)
        raise
    return endpoint


def start(name: str) -> Endpoint:
    """Bring an endpoint back after a restart: same address, deployments and weights."""
    endpoint = state.load(name)
    for deployment in list(endpoint.deployments.values()):
        if not processes.alive(deployment.pid):
            fresh = _start_deployment(endpoint, deployment.name, deployment.model_uri, deployment.workers)
            endpoint.deployments[deployment.name] = fresh
            state.save(endpoint)
    if not processes.alive(endpoint.router_pid):
        _start_router(endpoint)
    return endpoint


def deploy(name: str, deployment: str, model_uri: str, workers: int = 1) -> Deployment:
    """Start (or replace) a deployment serving `model_uri`; its traffic weight is kept (0 if new)."""
    endpoint = state.load(name)
    if not deployment or not all(ch.isalnum() or ch in "-_" for ch in deployment):
        raise CreditopsError(f"invalid deployment name {deployment!r}: use letters, digits, '-' and '_'")
    fresh = _start_deployment(endpoint, deployment, model_uri, workers)
    old = endpoint.deployments.get(deployment)
    endpoint.deployments[deployment] = fresh
    endpoint.traffic.setdefault(deployment, 0)
    state.save(endpoint)
    if old is not None:
        processes.stop(old.pid)
    return fresh


def set_traffic(name: str, weights: dict[str, int]) -> Endpoint:
    """Set the traffic weights (percent, summing to 100); deployments left out get 0."""
    endpoint = state.load(name)
    unknown = sorted(set(weights) - set(endpoint.deployments))
    if unknown:
        raise CreditopsError(f"no deployment named {', '.join(unknown)} on endpoint {name}")
    bad = {dep: pct for dep, pct in weights.items() if not 0 <= pct <= 100}
    if bad:
        raise CreditopsError(f"traffic must be 0..100 percent: {bad}")
    if sum(weights.values()) != 100:
        raise CreditopsError(f"traffic weights must sum to 100, not {sum(weights.values())}: {weights}")
    endpoint.traffic = {dep: weights.get(dep, 0) for dep in endpoint.deployments}
    state.save(endpoint)
    return endpoint


def remove_deployment(name: str, deployment: str) -> None:
    """Stop a deployment that has no traffic and forget it."""
    endpoint = state.load(name)
    if deployment not in endpoint.deployments:
        raise CreditopsError(f"no deployment named {deployment} on endpoint {name}")
    if endpoint.traffic.get(deployment, 0) > 0:
        raise CreditopsError(f"deployment {deployment} still has {endpoint.traffic[deployment]}% of the traffic")
    gone = endpoint.deployments.pop(deployment)
    endpoint.traffic.pop(deployment, None)
    state.save(endpoint)
    processes.stop(gone.pid)


def invoke(name: str, body: bytes, deployment: str | None = None) -> httpx.Response:
    endpoint = state.load(name)
    return post(endpoint.url, body, api_key=state.read_key(name), deployment=deployment)


def send_rows(name: str, data: Path, deployment: str | None = None, batch: int = 500) -> tuple[int, float]:
    """Score every row of a data file through the endpoint; the row count and mean probability."""
    frame = read_table(data)
    missing = [name for name in FEATURES if name not in frame]
    if missing:
        raise CreditopsError(f"{data} lacks the feature column(s) {', '.join(missing)}")
    values = np.ascontiguousarray(frame[list(FEATURES)].to_numpy())
    probabilities: list[float] = []
    for start in range(0, len(values), batch):
        body = {"dataframe_split": {"columns": list(FEATURES), "data": values[start : start + batch]}}
        answer = invoke(name, orjson.dumps(body, option=orjson.OPT_SERIALIZE_NUMPY), deployment)
        if answer.status_code != 200:
            raise CreditopsError(f"rows {start}..{start + batch - 1} of {data}: {answer.text[:300]}")
        probabilities.extend(row["probability"] for row in answer.json()["predictions"])
    return len(probabilities), float(sum(probabilities) / max(1, len(probabilities)))


def smoke(name: str, body: bytes, deployment: str | None = None, max_latency_ms: float = 1_000.0) -> SmokeReport:
    endpoint = state.load(name)
    expected = endpoint.deployments[deployment].model_version if deployment in endpoint.deployments else None
    return smoke_test(
        endpoint.url,
        body,
        api_key=state.read_key(name),
        deployment=deployment,
        max_latency_ms=max_latency_ms,
        expected_version=expected,
    )


@dataclass(frozen=True)
class Health:
    name: str
    healthy: bool
    detail: str


def health(name: str) -> tuple[Endpoint, list[Health]]:
    """The endpoint and the health of its router and each deployment."""
    endpoint = state.load(name)
    report = [Health("router", processes.alive(endpoint.router_pid), f"pid {endpoint.router_pid}")]
    for deployment in endpoint.deployments.values():
        report.append(Health(deployment.name, *_probe(deployment)))
    return endpoint, report


def delete(name: str) -> None:
    """Stop every process of the endpoint, free its port and forget it."""
    endpoint = state.load(name)
    for deployment in endpoint.deployments.values():
        processes.stop(deployment.pid)
    processes.stop(endpoint.router_pid)
    deadline = time.monotonic() + 5
    while processes.port_in_use(endpoint.port) and time.monotonic() < deadline:
        time.sleep(0.05)
    shutil.rmtree(state.folder(name), ignore_errors=True)


def rollout(
    name: str,
    model_uri: str,
    request_body: bytes,
    steps: tuple[int, ...] = (10, 50, 100),
    *,
    requests_per_step: int = 50,
    max_error_rate: float = 0.01,
    max_p99_ms: float = 250.0,
    workers: int = 1,
    say: Say = print,
    remember: bool = True,
) -> Deployment:
    """Blue/green: deploy to the idle colour, smoke-test it directly, shift traffic step by step,
    then retire the old deployment. Any failed check restores the traffic exactly and removes the
    new deployment."""
    if not steps or any(not 0 < step <= 100 for step in steps) or steps[-1] != 100 or list(steps) != sorted(steps):
        raise CreditopsError(f"steps must rise to 100, e.g. 10,50,100; got {','.join(map(str, steps))}")
    endpoint = state.load(name)
    before = dict(endpoint.traffic)
    live = endpoint.live()
    idle = next(colour for colour in BLUE_GREEN if live is None or colour != live.name)
    if endpoint.traffic.get(idle, 0) > 0:
        raise CreditopsError(
            f"{idle} still carries {endpoint.traffic[idle]}% of the traffic: send it all to one deployment"
            f" first, e.g. 'creditops endpoint traffic {name} {live.name if live else idle}=100'"
        )
    if live is None:
        steps = (100,)  # nothing serves yet: no traffic to share, the smoke test guards the first deployment
    say(f"deploying {model_uri} as {idle}" + (f" (live: {live.name}, {live.model_uri})" if live else ""))
    new = deploy(name, idle, model_uri, workers)
    try:
        report = smoke(name, request_body, deployment=idle)
        if not report.passed:
            raise CreditopsError(f"smoke test of {idle} failed: {report.failures()}")
        say(f"smoke test of {idle} passed ({report.latency_ms:.1f} ms)")
        for step in steps:
            weights = {idle: step} if step == 100 else {idle: step, live.name: 100 - step}
            set_traffic(name, weights)
            _check_step(name, request_body, step, idle, requests_per_step, max_error_rate, max_p99_ms)
            say(f"{idle} at {step}%: checks passed")
    except BaseException as failure:
        _restore(name, before, idle, live)
        if isinstance(failure, CreditopsError):
            raise CreditopsError(f"rollout of {model_uri} rolled back: {failure}") from failure
        raise
    if live is not None:
        remove_deployment(name, live.name)
        if remember:
            endpoint = state.load(name)
            endpoint.history.append({"model_uri": live.model_uri, "model_version": live.model_version})
            state.save(endpoint)
        say(f"retired {live.name}")
    return new


def rollback(name: str, request_body: bytes, say: Say = print) -> Deployment:
    """Return to the model served before the last rollout (blue/green, smoke-tested)."""
    endpoint = state.load(name)
    if not endpoint.history:
        raise CreditopsError(f"endpoint {name} has no previous deployment to return to")
    previous = endpoint.history[-1]
    deployment = rollout(name, previous["model_uri"], request_body, (100,), say=say, remember=False)
    endpoint = state.load(name)
    endpoint.history.pop()
    state.save(endpoint)
    return deployment


def _check_step(
    name: str, body: bytes, step: int, idle: str, count: int, max_error_rate: float, max_p99_ms: float
) -> None:
    endpoint = state.load(name)
    key = state.read_key(name)
    latencies, errors, answered_by_new = [], 0, 0
    for _ in range(count):
        started = time.perf_counter()
        try:
            answer = post(endpoint.url, body, api_key=key)
            failed = answer.status_code != 200
            answered_by_new += answer.headers.get("azureml-model-deployment") == idle
        except CreditopsError:
            failed = True
        latencies.append(1000 * (time.perf_counter() - started))
        errors += failed
    rate = errors / count
    p99 = sorted(latencies)[max(0, int(0.99 * count) - 1)]
    if rate > max_error_rate:
        raise CreditopsError(f"at {step}%: error rate {rate:.1%} over {max_error_rate:.1%}")
    if p99 > max_p99_ms:
        raise CreditopsError(f"at {step}%: p99 latency {p99:.1f} ms over {max_p99_ms:g} ms")
    if step == 100 and answered_by_new != count:
        raise CreditopsError(f"at 100%: {count - answered_by_new} requests were not answered by {idle}")


def _restore(name: str, before: dict[str, int], idle: str, live: Deployment | None) -> None:
    endpoint = state.load(name)
    endpoint.traffic = {dep: before.get(dep, 0) for dep in endpoint.deployments}
    state.save(endpoint)
    if idle in endpoint.deployments and (live is None or idle != live.name):
        endpoint.traffic.pop(idle, None)
        gone = endpoint.deployments.pop(idle)
        state.save(endpoint)
        processes.stop(gone.pid)


def _start_router(endpoint: Endpoint) -> None:
    log = state.logs(endpoint.name) / "router.log"
    key = state.read_key(endpoint.name)
    state_path = state.folder(endpoint.name) / state.STATE_FILE
    arguments = ["creditops.endpoints.router", "--name", endpoint.name, "--state", str(state_path)]
    pid = processes.start([*arguments, "--port", str(endpoint.port)], log, env={"CREDITOPS_ENDPOINT_KEY": key or ""})
    processes.wait_listening(endpoint.port, pid, log)
    endpoint.router_pid = pid
    state.save(endpoint)


def _start_deployment(endpoint: Endpoint, deployment: str, model_uri: str, workers: int) -> Deployment:
    model_uri, version = _pinned(model_uri)
    port = processes.free_port()
    log = state.logs(endpoint.name) / f"{deployment}.log"
    arguments = ["creditops", "serve", "--model", model_uri, "--port", str(port), "--workers", str(workers)]
    requests = state.requests(endpoint.name) / deployment
    pid = processes.start([*arguments, "--deployment", deployment, "--request-log", str(requests)], log)
    processes.wait_until(f"http://127.0.0.1:{port}/ready", pid, log)
    return Deployment(deployment, model_uri, version, port, pid, workers)


def _pinned(model_uri: str) -> tuple[str, str]:
    """The exact model to serve and its version, checked before any process starts.

    An alias is resolved to its version now, so a restart or a rollback serves the same model even
    after the alias has moved.
    """
    if model_uri.startswith("models:/"):
        version = registry.resolve(tracking_uri(), model_uri)
        return version.uri, version.version
    if not Path(model_uri).exists():
        raise CreditopsError(f"no model at {model_uri}: use models:/NAME@ALIAS, models:/NAME/VERSION or a folder")
    return str(Path(model_uri).resolve()), "local"


def _probe(deployment: Deployment) -> tuple[bool, str]:
    if not processes.alive(deployment.pid):
        return False, f"process {deployment.pid} is not running"
    try:
        answer = httpx.get(f"http://127.0.0.1:{deployment.port}/ready", timeout=2.0)
    except httpx.HTTPError as error:
        return False, f"not answering: {error}"
    return answer.status_code == 200, f"port {deployment.port}, model version {deployment.model_version}"
