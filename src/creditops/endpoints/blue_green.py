"""Blue/green rollout and rollback on a local endpoint: smoke test, mirror traffic, traffic step by step.

A rollout holds the endpoint's lock and writes its plan to the endpoint state before it changes
anything. Any failed check, Ctrl-C or SIGTERM restores the traffic exactly and removes the new
deployment; after a SIGKILL, the next endpoint command (or `endpoint recover`) does the same.
Each step is judged on the new deployment's own figures, read from the endpoint's metrics.
"""

import contextlib
import os
import signal
import threading
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime

from creditops.context import Context
from creditops.endpoints import figures, manager, state
from creditops.endpoints.decisions import MirrorFigures, MirrorLimits, StepFigures, mirror_failure, step_failure
from creditops.endpoints.smoke import post
from creditops.endpoints.state import Deployment, HistoryEntry, RolloutPlan
from creditops.errors import CreditopsError
from creditops.say import Say
from creditops.serving.protocol import DEPLOYMENT_HEADER

BLUE_GREEN = ("blue", "green")
MAX_ROUNDS = 10
"""A step sends up to this many times its requests until the new deployment has answered its share."""


class Interrupted(BaseException):
    """SIGTERM or SIGINT during a rollout: the traffic is restored before the process exits."""


@dataclass(frozen=True)
class RolloutReport:
    """What a rollout did: the deployment now live and, when there was a mirror step, what it measured."""

    deployment: Deployment
    mirror: MirrorFigures | None = None

    def as_dict(self) -> dict[str, object]:
        return {
            "deployment": self.deployment.name,
            "model_uri": self.deployment.model_uri,
            "model_version": self.deployment.model_version,
            "mirror": None if self.mirror is None else {**asdict(self.mirror), "agreement": self.mirror.agreement},
        }


def rollout(
    context: Context,
    name: str,
    model_uri: str,
    request_body: bytes,
    steps: tuple[int, ...] = (10, 50, 100),
    *,
    mirror_percent: int = 0,
    mirror_limits: MirrorLimits | None = None,
    requests_per_step: int = 50,
    max_error_rate: float = 0.01,
    max_p99_ms: float = 250.0,
    workers: int | None = None,
    say: Say = print,
    remember: bool = True,
) -> RolloutReport:
    """Blue/green: deploy to the idle colour, smoke-test it, mirror live traffic to it (when asked),
    shift traffic step by step, then retire the old deployment."""
    if not steps or any(not 0 < step <= 100 for step in steps) or steps[-1] != 100 or list(steps) != sorted(steps):
        raise CreditopsError(f"steps must rise to 100, e.g. 10,50,100; got {','.join(map(str, steps))}")
    if not 0 <= mirror_percent <= 100:
        raise CreditopsError(f"mirror traffic must be 0..100 percent, not {mirror_percent}")
    with manager.busy(context, name, f"rollout of {model_uri}", say), _signals_interrupt():
        endpoint = state.load(context.endpoints_dir, name)
        live = endpoint.live()
        idle = next(colour for colour in BLUE_GREEN if live is None or colour != live.name)
        if endpoint.traffic.get(idle, 0) > 0:
            raise CreditopsError(
                f"{idle} still carries {endpoint.traffic[idle]}% of the traffic: send it all to one deployment"
                f" first, e.g. 'creditops endpoint traffic {name} {live.name if live else idle}=100'"
            )
        started = datetime.now(tz=UTC).isoformat(timespec="seconds")
        plan = RolloutPlan(os.getpid(), idle, model_uri, dict(endpoint.traffic), None, started)
        endpoint.rollout = plan
        state.save(context.endpoints_dir, endpoint)
        try:
            report = _run(
                context,
                name,
                model_uri,
                request_body,
                steps,
                idle,
                live,
                plan,
                say,
                workers=workers,
                mirror_percent=mirror_percent,
                mirror_limits=mirror_limits or MirrorLimits(),
                requests_per_step=requests_per_step,
                max_error_rate=max_error_rate,
                max_p99_ms=max_p99_ms,
            )
        except BaseException as failure:
            manager.restore(context, name, plan)
            weights = ", ".join(f"{dep}={pct}%" for dep, pct in plan.before.items()) or "no traffic"
            if isinstance(failure, Interrupted | KeyboardInterrupt):
                raise CreditopsError(f"rollout of {model_uri} interrupted: traffic restored to {weights}") from None
            if isinstance(failure, CreditopsError):
                raise CreditopsError(f"rollout of {model_uri} rolled back: {failure}") from failure
            raise
        _retire(context, name, live, say, remember)
        return report


def rollback(context: Context, name: str, request_body: bytes, say: Say = print) -> Deployment:
    """Return to the model served before the last rollout (blue/green, smoke-tested)."""
    endpoint = state.load(context.endpoints_dir, name)
    if not endpoint.history:
        raise CreditopsError(f"endpoint {name} has no previous deployment to return to")
    previous = endpoint.history[-1]
    report = rollout(context, name, previous["model_uri"], request_body, (100,), say=say, remember=False)
    endpoint = state.load(context.endpoints_dir, name)
    endpoint.history.pop()
    state.save(context.endpoints_dir, endpoint)
    return report.deployment


def _run(
    context: Context,
    name: str,
    model_uri: str,
    body: bytes,
    steps: tuple[int, ...],
    idle: str,
    live: Deployment | None,
    plan: RolloutPlan,
    say: Say,
    *,
    workers: int | None,
    mirror_percent: int,
    mirror_limits: MirrorLimits,
    requests_per_step: int,
    max_error_rate: float,
    max_p99_ms: float,
) -> RolloutReport:
    say(f"deploying {model_uri} as {idle}" + (f" (live: {live.name}, {live.model_uri})" if live else ""))
    new = manager.deploy_unlocked(context, name, idle, model_uri, workers)
    _progress(context, name, plan, "smoke test")
    report = manager.smoke(context, name, body, deployment=idle)
    if not report.passed:
        raise CreditopsError(f"smoke test of {idle} failed: {report.failures()}")
    say(f"smoke test of {idle} passed ({report.latency_ms:.1f} ms)")
    mirrored = None
    if live is None:
        steps = (100,)  # nothing serves yet: no traffic to share, the smoke test guards the first deployment
    elif mirror_percent > 0:
        _progress(context, name, plan, f"mirror {mirror_percent}%")
        mirrored = _mirror_step(context, name, body, idle, mirror_percent, requests_per_step, mirror_limits)
        say(
            f"{idle} mirrored {mirrored.requests} requests ({mirrored.rows} rows): class agreement"
            f" {mirrored.agreement:.1%}, mean |Δp| {mirrored.mean_abs_delta:.3f}, p99 ≤ {mirrored.p99_ms:g} ms"
        )
    for step in steps:
        _progress(context, name, plan, f"{step}%")
        weights = {idle: step} if step == 100 or live is None else {idle: step, live.name: 100 - step}
        manager.set_traffic_unlocked(context, name, weights)
        measured = _measure_step(context, name, body, step, idle, requests_per_step)
        failure = step_failure(step, measured, idle, max_error_rate=max_error_rate, max_p99_ms=max_p99_ms)
        if failure is not None:
            raise CreditopsError(failure)
        say(f"{idle} at {step}%: checks passed ({measured.requests} answered, p99 ≤ {measured.p99_ms:g} ms)")
    return RolloutReport(new, mirrored)


def _retire(context: Context, name: str, live: Deployment | None, say: Say, remember: bool) -> None:
    if live is not None:
        manager.remove_unlocked(context, name, live.name)
    endpoint = state.load(context.endpoints_dir, name)
    if live is not None and remember:
        endpoint.history.append(HistoryEntry(model_uri=live.model_uri, model_version=live.model_version))
    endpoint.rollout = None
    state.save(context.endpoints_dir, endpoint)
    if live is not None:
        say(f"retired {live.name}")


def _progress(context: Context, name: str, plan: RolloutPlan, step: str) -> None:
    endpoint = state.load(context.endpoints_dir, name)
    plan.step = step
    endpoint.rollout = plan
    state.save(context.endpoints_dir, endpoint)


def _measure_step(context: Context, name: str, body: bytes, step: int, idle: str, count: int) -> StepFigures:
    """Send requests through the endpoint until the new deployment has answered its share of `count`;
    its own figures (from the metrics) and what the client saw."""
    endpoint = state.load(context.endpoints_dir, name)
    key = state.read_key(context.endpoints_dir, name)
    wanted = max(1, count * step // 100)
    before = figures.snapshot(endpoint.url, key)
    sent = answered_by_new = failed = 0
    while sent < count or (answered_by_new < wanted and sent < MAX_ROUNDS * count):
        try:
            answer = post(endpoint.url, body, api_key=key, probe=True)
            answered_by_new += answer.headers.get(DEPLOYMENT_HEADER) == idle
            failed += answer.status_code >= 500
        except CreditopsError:
            failed += 1
        sent += 1
    own = figures.deployment_figures(before, figures.snapshot(endpoint.url, key), idle)
    return StepFigures(own.requests, own.errors + failed, own.p99_ms, answered_by_new, sent)


def _mirror_step(
    context: Context, name: str, body: bytes, idle: str, percent: int, count: int, limits: MirrorLimits
) -> MirrorFigures:
    """Mirror `percent` % of live requests to `idle`, send `count` live requests, judge the comparison."""
    endpoint = state.load(context.endpoints_dir, name)
    key = state.read_key(context.endpoints_dir, name)
    before = figures.snapshot(endpoint.url, key)
    manager.set_mirror_unlocked(context, name, {idle: percent})
    try:
        measured = None
        for _ in range(MAX_ROUNDS):
            for _ in range(count):
                post(endpoint.url, body, api_key=key, probe=True)
            measured = figures.mirror_figures(before, figures.snapshot(endpoint.url, key), idle)
            if measured.requests >= max(1, count * percent // 100 - endpoint.workers):  # each worker rounds down
                break
    finally:
        manager.set_mirror_unlocked(context, name, {})
    assert measured is not None  # nosec B101
    failure = mirror_failure(measured, limits)
    if failure is not None:
        raise CreditopsError(failure)
    return measured


@contextlib.contextmanager
def _signals_interrupt() -> Iterator[None]:
    """SIGTERM raises `Interrupted` (SIGINT already raises KeyboardInterrupt), so the rollout can undo itself."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum: int, frame: object) -> None:
        raise Interrupted(signal.Signals(signum).name)

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
