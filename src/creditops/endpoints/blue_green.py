"""Blue/green rollout and rollback on any target: smoke test, mirror traffic, traffic step by step.

A rollout holds the endpoint for its change and records its plan before it changes anything. Any
failed check, Ctrl-C or SIGTERM restores the traffic exactly and removes the new deployment; the
signals are honoured between requests and steps (`interruption`), never inside a half-done call. After
a SIGKILL, the next endpoint command (or `endpoint recover`) does the same. Each step is judged on the
new deployment's own figures, as the target measures them.
"""

import os
from dataclasses import asdict, dataclass
from datetime import UTC, datetime

from creditops.endpoints.decisions import (
    MirrorFigures,
    MirrorLimits,
    mirror_failure,
    rollout_steps_problem,
    step_failure,
)
from creditops.endpoints.state import Deployment, RolloutPlan
from creditops.endpoints.targets import Target
from creditops.errors import CreditopsError
from creditops.interruption import Interrupted, check, cooperative
from creditops.say import Say

BLUE_GREEN = ("blue", "green")


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
    target: Target,
    model_uri: str,
    request_body: bytes,
    steps: tuple[int, ...] = (10, 50, 100),
    *,
    mirror_percent: int = 0,
    mirror_limits: MirrorLimits | None = None,
    requests_per_step: int = 50,
    max_error_rate: float = 0.01,
    max_p99_ms: float = 250.0,
    say: Say = print,
    remember: bool = True,
) -> RolloutReport:
    """Blue/green: deploy to the idle colour, smoke-test it, mirror live traffic to it (when asked),
    shift traffic step by step, then retire the old deployment. Each step, and a failure's reason and
    the restore, also go to the endpoint's log (`creditops endpoint logs`)."""
    bad_steps = rollout_steps_problem(steps)
    if bad_steps is not None:
        raise CreditopsError(bad_steps)
    if not 0 <= mirror_percent <= 100:
        raise CreditopsError(f"mirror traffic must be 0..100 percent, not {mirror_percent}")
    say = _logged(target, say)
    with target.changing(f"rollout of {model_uri}", say), cooperative():
        live = target.live()
        idle = next(colour for colour in BLUE_GREEN if live is None or colour != live.name)
        traffic = target.traffic()
        if traffic.get(idle, 0) > 0:
            raise CreditopsError(
                f"{idle} still carries {traffic[idle]}% of the traffic: send it all to one deployment"
                f" first, e.g. 'creditops endpoint traffic {target.name} {live.name if live else idle}=100'"
            )
        started = datetime.now(tz=UTC).isoformat(timespec="seconds")
        plan = RolloutPlan(os.getpid(), idle, model_uri, traffic, None, started)
        target.record_plan(plan)
        try:
            report = _run(
                target,
                model_uri,
                request_body,
                steps,
                idle,
                live,
                plan,
                say,
                mirror_percent=mirror_percent,
                mirror_limits=mirror_limits or MirrorLimits(),
                requests_per_step=requests_per_step,
                max_error_rate=max_error_rate,
                max_p99_ms=max_p99_ms,
            )
        except BaseException as failure:
            target.restore(plan)
            if isinstance(failure, Interrupted | KeyboardInterrupt):
                signal_name = str(failure) or "Ctrl-C"
                stopped = (
                    f"rollout of {model_uri} interrupted ({signal_name}): traffic restored to {plan.weights_before()}"
                )
                target.note(stopped)
                raise CreditopsError(stopped) from None
            target.note(f"rollout of {model_uri} failed: {failure}; traffic restored to {plan.weights_before()}")
            if isinstance(failure, CreditopsError):
                raise CreditopsError(f"rollout of {model_uri} rolled back: {failure}") from failure
            raise
        if live is not None:
            target.retire(live, remember)
            say(f"retired {live.name}")
        target.record_plan(None)
        target.note(f"rollout of {model_uri} done: {idle} serves it")
        return report


def _logged(target: Target, say: Say) -> Say:
    """`say`, each message also written to the endpoint's log."""

    def both(message: str) -> None:
        say(message)
        target.note(message)

    return both


def rollback(target: Target, request_body: bytes, say: Say = print) -> Deployment:
    """Return to the model served before the last rollout (blue/green, smoke-tested)."""
    history = target.history()
    if not history:
        raise CreditopsError(f"endpoint {target.name} has no previous deployment to return to")
    report = rollout(target, history[-1]["model_uri"], request_body, (100,), say=say, remember=False)
    target.forget_last()
    return report.deployment


def _run(
    target: Target,
    model_uri: str,
    body: bytes,
    steps: tuple[int, ...],
    idle: str,
    live: Deployment | None,
    plan: RolloutPlan,
    say: Say,
    *,
    mirror_percent: int,
    mirror_limits: MirrorLimits,
    requests_per_step: int,
    max_error_rate: float,
    max_p99_ms: float,
) -> RolloutReport:
    say(f"deploying {model_uri} as {idle}" + (f" (live: {live.name}, {live.model_uri})" if live else ""))
    new = target.deploy(idle, model_uri)
    _progress(target, plan, "smoke test")
    report = target.smoke(body, idle)
    if not report.passed:
        raise CreditopsError(f"smoke test of {idle} failed: {report.failures()}")
    say(f"smoke test of {idle} passed ({report.latency_ms:.1f} ms)")
    mirrored = None
    if live is None:
        steps = (100,)  # nothing serves yet: no traffic to share, the smoke test guards the first deployment
    elif mirror_percent > 0:
        _progress(target, plan, f"mirror {mirror_percent}%")
        mirrored = target.measure_mirror(body, idle, mirror_percent, requests_per_step)
        failure = mirror_failure(mirrored, mirror_limits)
        if failure is not None:
            raise CreditopsError(failure)
        say(
            f"{idle} mirrored {mirrored.requests} requests ({mirrored.rows} rows): class agreement"
            f" {mirrored.agreement:.1%}, mean |Δp| {mirrored.mean_abs_delta:.3f}, p99 ≤ {mirrored.p99_ms:g} ms"
        )
    for step in steps:
        _progress(target, plan, f"{step}%")
        weights = {idle: step} if step == 100 or live is None else {idle: step, live.name: 100 - step}
        target.set_traffic(weights)
        measured = target.measure_step(body, step, idle, requests_per_step)
        failure = step_failure(step, measured, idle, max_error_rate=max_error_rate, max_p99_ms=max_p99_ms)
        if failure is not None:
            raise CreditopsError(failure)
        say(f"{idle} at {step}%: checks passed ({measured.requests} answered, p99 ≤ {measured.p99_ms:g} ms)")
    return RolloutReport(new, mirrored)


def _progress(target: Target, plan: RolloutPlan, step: str) -> None:
    check()
    plan.step = step
    target.record_plan(plan)
