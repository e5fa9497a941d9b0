"""The decisions of a rollout, as pure functions: whether traffic weights are valid and whether a traffic
step passes its checks. Measuring is the caller's job; these only judge (and are tested at their edges)."""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from creditops.errors import CreditopsError


@dataclass(frozen=True)
class StepFigures:
    """What was measured at one traffic step of a rollout: the new deployment's own figures (requests it
    answered, its errors, its p99) and what the client saw (requests sent, answered by the new one)."""

    requests: int
    errors: int
    p99_ms: float
    answered_by_new: int
    sent: int


@dataclass(frozen=True)
class MirrorFigures:
    """What a mirror step measured: the mirror deployment's answers beside the live ones, on the same rows."""

    requests: int
    errors: int
    rows: int
    disagreements: int
    mean_abs_delta: float
    max_abs_delta: float
    p99_ms: float

    @property
    def agreement(self) -> float:
        return 1.0 - self.disagreements / self.rows if self.rows else 0.0


@dataclass(frozen=True)
class MirrorLimits:
    """When a mirror deployment's answers are too far from the live ones to give it live traffic."""

    min_class_agreement: float = 0.9
    max_mean_abs_delta: float = 0.1
    max_abs_delta: float = 0.5
    max_errors: int = 0
    max_p99_ms: float = 250.0


def rollout_steps_problem(steps: Sequence[int]) -> str | None:
    """Why `steps` cannot be a rollout's traffic steps, or None: each a percentage above 0, never falling,
    the last 100 (a rollout that never reaches 100 % leaves two models live). Environment files are held
    to this when loaded, so a bad file fails at once, not when a release starts its rollout."""
    if not steps or any(not 0 < step <= 100 for step in steps) or steps[-1] != 100 or list(steps) != sorted(steps):
        shown = ",".join(map(str, steps)) or "none"
        return f"steps must rise to 100, each above 0, e.g. 10,50,100; got {shown}"
    return None


def checked_weights(weights: Mapping[str, int], deployments: Iterable[str], endpoint: str) -> dict[str, int]:
    """Every deployment's share (0 for those left out), when each is 0..100 and they sum to 100."""
    known = list(deployments)
    unknown = sorted(set(weights) - set(known))
    if unknown:
        raise CreditopsError(f"no deployment named {', '.join(unknown)} on endpoint {endpoint}")
    bad = {dep: pct for dep, pct in weights.items() if not 0 <= pct <= 100}
    if bad:
        raise CreditopsError(f"traffic must be 0..100 percent: {bad}")
    if sum(weights.values()) != 100:
        raise CreditopsError(f"traffic weights must sum to 100, not {sum(weights.values())}: {dict(weights)}")
    return {dep: weights.get(dep, 0) for dep in known}


def p99(latencies_ms: Sequence[float]) -> float:
    """The 99th percentile, its rank rounded down: of 100 values the 99th, of 50 the 49th. With the 50
    requests a rollout step measures, one stray request (a pause of the machine) does not decide alone."""
    if not latencies_ms:
        raise ValueError("no latencies to take a percentile of")
    ordered = sorted(latencies_ms)
    rank = max(1, 99 * len(ordered) // 100)  # floor(0.99 n), without floating point
    return ordered[rank - 1]


def step_failure(
    step: int, figures: StepFigures, deployment: str, *, max_error_rate: float, max_p99_ms: float
) -> str | None:
    """Why the step fails (error rate over its budget, p99 over its budget, or at 100 % a request not
    answered by the new deployment), or None when it passes. A budget reached exactly still passes."""
    if figures.requests <= 0:
        return f"at {step}%: no request was measured"
    rate = figures.errors / figures.requests
    if rate > max_error_rate:
        return f"at {step}%: error rate {rate:.1%} over {max_error_rate:.1%}"
    if figures.p99_ms > max_p99_ms:
        return f"at {step}%: p99 latency {figures.p99_ms:.1f} ms over {max_p99_ms:g} ms"
    if step == 100 and figures.answered_by_new != figures.sent:
        return f"at 100%: {figures.sent - figures.answered_by_new} requests were not answered by {deployment}"
    return None


def mirror_failure(figures: MirrorFigures, limits: MirrorLimits) -> str | None:
    """Why the mirrored answers fail (errors, no rows, class agreement, mean or max |Δ probability|, p99),
    or None when they pass. A limit reached exactly still passes."""
    if figures.errors > limits.max_errors:
        return f"mirror: {figures.errors} of {figures.requests} mirrored requests failed (at most {limits.max_errors})"
    if figures.rows <= 0:
        return "mirror: no mirrored row was compared"
    if figures.agreement < limits.min_class_agreement:
        return f"mirror: class agreement {figures.agreement:.1%} under {limits.min_class_agreement:.1%}"
    if figures.mean_abs_delta > limits.max_mean_abs_delta:
        return f"mirror: mean |Δ probability| {figures.mean_abs_delta:.3f} over {limits.max_mean_abs_delta:g}"
    if figures.max_abs_delta > limits.max_abs_delta:
        return f"mirror: max |Δ probability| up to {figures.max_abs_delta:g} over {limits.max_abs_delta:g}"
    if figures.p99_ms > limits.max_p99_ms:
        return f"mirror: p99 latency up to {figures.p99_ms:g} ms over {limits.max_p99_ms:g} ms"
    return None
