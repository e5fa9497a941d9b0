"""Rollout and traffic decisions at their edges, in milliseconds: no endpoint, no process."""

import pytest

from creditops.endpoints.decisions import (
    MirrorFigures,
    MirrorLimits,
    StepFigures,
    checked_weights,
    mirror_failure,
    p99,
    rollout_steps_problem,
    step_failure,
)
from creditops.errors import CreditopsError


def _judge(step: int = 50, **figures: float) -> str | None:
    measured = {"requests": 100, "errors": 0, "p99_ms": 10.0, "answered_by_new": 100, "sent": 100, **figures}
    return step_failure(
        step,
        StepFigures(**measured),
        "green",
        max_error_rate=0.01,
        max_p99_ms=250.0,  # type: ignore[arg-type]
    )


@pytest.mark.parametrize(("errors", "fails"), [(0, False), (1, False), (2, True)])
def test_error_rate_budget_is_inclusive(errors: int, fails: bool) -> None:
    failure = _judge(errors=errors)  # 1 in 100 is exactly the 1 % budget
    assert (failure is not None) is fails
    if fails:
        assert failure == "at 50%: error rate 2.0% over 1.0%"


@pytest.mark.parametrize(("latency", "fails"), [(249.9, False), (250.0, False), (250.1, True)])
def test_p99_budget_is_inclusive(latency: float, fails: bool) -> None:
    failure = _judge(p99_ms=latency)
    assert (failure is not None) is fails
    if fails:
        assert failure == "at 50%: p99 latency 250.1 ms over 250 ms"


def test_at_full_traffic_every_answer_must_come_from_the_new_deployment() -> None:
    assert _judge(step=100, answered_by_new=100) is None
    assert _judge(step=100, answered_by_new=99) == "at 100%: 1 requests were not answered by green"
    assert (
        _judge(step=100, requests=99, answered_by_new=99, sent=100) == "at 100%: 1 requests were not answered by green"
    )
    assert _judge(step=100, requests=50, answered_by_new=100, sent=100) is None  # its own count may differ
    assert _judge(step=50, answered_by_new=40) is None  # below 100 % the old deployment answers too


def test_errors_are_judged_before_latency() -> None:
    assert _judge(errors=50, p99_ms=9_999.0) == "at 50%: error rate 50.0% over 1.0%"


def test_no_measured_request_is_a_failure_and_one_is_enough() -> None:
    assert _judge(requests=0, answered_by_new=0) == "at 50%: no request was measured"
    assert _judge(requests=1, answered_by_new=1) is None


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (list(range(1, 101)), 99),  # the 99th of 100
        (list(range(1, 51)), 49),  # of 50 values the 49th: one outlier alone does not fail a step
        ([7.0], 7.0),
        (list(range(200, 0, -1)), 198),
    ],
)
def test_p99_rank_rounded_down(values: list[float], expected: float) -> None:
    assert p99(values) == expected


def test_p99_of_nothing_is_refused() -> None:
    with pytest.raises(ValueError, match=r"^no latencies to take a percentile of$"):
        p99([])


@pytest.mark.parametrize(
    ("weights", "expected"),
    [
        ({"blue": 100}, {"blue": 100, "green": 0}),
        ({"blue": 0, "green": 100}, {"blue": 0, "green": 100}),
        ({"blue": 1, "green": 99}, {"blue": 1, "green": 99}),
    ],
)
def test_weights_within_bounds_that_sum_to_100(weights: dict[str, int], expected: dict[str, int]) -> None:
    assert checked_weights(weights, ["blue", "green"], "ep") == expected


@pytest.mark.parametrize(
    ("weights", "message"),
    [
        ({"blue": 101, "green": -1}, "traffic must be 0..100 percent"),
        ({"blue": -1, "green": 101}, "traffic must be 0..100 percent"),
        ({"blue": 99}, "must sum to 100, not 99"),
        ({"blue": 100, "green": 1}, "must sum to 100, not 101"),
        ({"purple": 100}, "no deployment named purple on endpoint ep"),
        ({"purple": 50, "cyan": 50}, "no deployment named cyan, purple on endpoint ep"),
        ({"blue": 101}, "traffic must be 0..100 percent"),
    ],
)
def test_weights_out_of_bounds_or_not_summing_to_100_are_refused(weights: dict[str, int], message: str) -> None:
    with pytest.raises(CreditopsError, match=message):
        checked_weights(weights, ["blue", "green"], "ep")


def _mirror(**changes: float) -> str | None:
    measured = {
        "requests": 10,
        "errors": 0,
        "rows": 100,
        "disagreements": 10,
        "mean_abs_delta": 0.1,
        "max_abs_delta": 0.5,
        "p99_ms": 250.0,
        **changes,
    }
    return mirror_failure(MirrorFigures(**measured), MirrorLimits())  # type: ignore[arg-type]


def test_mirror_limits_reached_exactly_still_pass() -> None:
    assert _mirror() is None  # 90 % agreement, mean 0.1, max 0.5, p99 250 ms: every limit exactly


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"errors": 1}, "mirror: 1 of 10 mirrored requests failed (at most 0)"),
        ({"rows": 0, "disagreements": 0}, "mirror: no mirrored row was compared"),
        ({"disagreements": 11}, "mirror: class agreement 89.0% under 90.0%"),
        ({"mean_abs_delta": 0.1001}, "mirror: mean |Δ probability| 0.100 over 0.1"),
        ({"max_abs_delta": 1.0}, "mirror: max |Δ probability| up to 1 over 0.5"),
        ({"p99_ms": 500.0}, "mirror: p99 latency up to 500 ms over 250 ms"),
        ({"errors": 1, "disagreements": 100}, "mirror: 1 of 10 mirrored requests failed (at most 0)"),
    ],
)
def test_mirror_failures_name_the_first_limit_broken(changes: dict[str, float], message: str) -> None:
    assert _mirror(**changes) == message


def test_one_mirrored_row_is_enough_to_judge() -> None:
    assert _mirror(rows=1, disagreements=0) is None


def test_mirror_agreement_of_no_rows_is_zero() -> None:
    assert MirrorFigures(0, 0, 0, 0, 0.0, 0.0, 0.0).agreement == 0.0
    assert MirrorFigures(1, 0, 4, 1, 0.0, 0.0, 0.0).agreement == 0.75


@pytest.mark.parametrize("steps", [(100,), (1, 100), (10, 50, 100), (50, 50, 100), (100, 100)])
def test_steps_rising_to_100_are_a_rollout(steps: tuple[int, ...]) -> None:
    assert rollout_steps_problem(steps) is None


@pytest.mark.parametrize(
    ("steps", "shown"),
    [
        ((), "none"),
        ((100, 50), "100,50"),
        ((0, 100), "0,100"),
        ((10, 50), "10,50"),
        ((150,), "150"),
        ((10, 101), "10,101"),
        ((50, 10, 100), "50,10,100"),
        ((99,), "99"),
    ],
)
def test_other_steps_are_refused_naming_them(steps: tuple[int, ...], shown: str) -> None:
    assert rollout_steps_problem(steps) == f"steps must rise to 100, each above 0, e.g. 10,50,100; got {shown}"
