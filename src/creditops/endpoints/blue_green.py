"""Blue/green rollout and rollback on a local endpoint: smoke test first, traffic step by step, restore on failure."""

import time

from creditops.context import Context
from creditops.endpoints import processes, state
from creditops.endpoints.decisions import StepFigures, p99, step_failure
from creditops.endpoints.manager import deploy, remove_deployment, set_traffic, smoke
from creditops.endpoints.smoke import post
from creditops.endpoints.state import Deployment, HistoryEntry
from creditops.errors import CreditopsError
from creditops.say import Say
from creditops.serving.protocol import DEPLOYMENT_HEADER

BLUE_GREEN = ("blue", "green")


def rollout(
    context: Context,
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
    endpoint = state.load(context.endpoints_dir, name)
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
    new = deploy(context, name, idle, model_uri, workers)
    try:
        report = smoke(context, name, request_body, deployment=idle)
        if not report.passed:
            raise CreditopsError(f"smoke test of {idle} failed: {report.failures()}")
        say(f"smoke test of {idle} passed ({report.latency_ms:.1f} ms)")
        for step in steps:
            weights = {idle: step} if step == 100 or live is None else {idle: step, live.name: 100 - step}
            set_traffic(context, name, weights)
            _check_step(context, name, request_body, step, idle, requests_per_step, max_error_rate, max_p99_ms)
            say(f"{idle} at {step}%: checks passed")
    except BaseException as failure:
        _restore(context, name, before, idle, live)
        if isinstance(failure, CreditopsError):
            raise CreditopsError(f"rollout of {model_uri} rolled back: {failure}") from failure
        raise
    if live is not None:
        remove_deployment(context, name, live.name)
        if remember:
            endpoint = state.load(context.endpoints_dir, name)
            endpoint.history.append(HistoryEntry(model_uri=live.model_uri, model_version=live.model_version))
            state.save(context.endpoints_dir, endpoint)
        say(f"retired {live.name}")
    return new


def rollback(context: Context, name: str, request_body: bytes, say: Say = print) -> Deployment:
    """Return to the model served before the last rollout (blue/green, smoke-tested)."""
    endpoint = state.load(context.endpoints_dir, name)
    if not endpoint.history:
        raise CreditopsError(f"endpoint {name} has no previous deployment to return to")
    previous = endpoint.history[-1]
    deployment = rollout(context, name, previous["model_uri"], request_body, (100,), say=say, remember=False)
    endpoint = state.load(context.endpoints_dir, name)
    endpoint.history.pop()
    state.save(context.endpoints_dir, endpoint)
    return deployment


def _check_step(
    context: Context, name: str, body: bytes, step: int, idle: str, count: int, max_error_rate: float, max_p99_ms: float
) -> None:
    endpoint = state.load(context.endpoints_dir, name)
    key = state.read_key(context.endpoints_dir, name)
    latencies, errors, answered_by_new = [], 0, 0
    for _ in range(count):
        started = time.perf_counter()
        try:
            answer = post(endpoint.url, body, api_key=key)
            failed = answer.status_code != 200
            answered_by_new += answer.headers.get(DEPLOYMENT_HEADER) == idle
        except CreditopsError:
            failed = True
        latencies.append(1000 * (time.perf_counter() - started))
        errors += failed
    figures = StepFigures(count, errors, p99(latencies), answered_by_new)
    failure = step_failure(step, figures, idle, max_error_rate=max_error_rate, max_p99_ms=max_p99_ms)
    if failure is not None:
        raise CreditopsError(failure)


def _restore(context: Context, name: str, before: dict[str, int], idle: str, live: Deployment | None) -> None:
    endpoint = state.load(context.endpoints_dir, name)
    endpoint.traffic = {dep: before.get(dep, 0) for dep in endpoint.deployments}
    state.save(context.endpoints_dir, endpoint)
    if idle in endpoint.deployments and (live is None or idle != live.name):
        endpoint.traffic.pop(idle, None)
        gone = endpoint.deployments.pop(idle)
        state.save(context.endpoints_dir, endpoint)
        processes.stop(gone.pid)
