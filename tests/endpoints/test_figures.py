"""A deployment's own figures from metrics snapshots, and which requests are mirrored: no endpoint needed."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from creditops.endpoints.figures import Snapshot, deployment_figures, mirror_figures, quantile_bound
from creditops.endpoints.mirror import selected

BOUNDS = (0.001, 0.005, 0.01, float("inf"))


def _snapshot(deployment: str, ok: int, errors: int, cumulative: tuple[int, ...]) -> Snapshot:
    values = {
        ("creditops_requests_total", (("deployment", deployment), ("route", "/score"), ("status", "200"))): ok,
        ("creditops_requests_total", (("deployment", deployment), ("route", "/score"), ("status", "503"))): errors,
    }
    for bound, count in zip(BOUNDS, cumulative, strict=True):
        labels = (("deployment", deployment), ("le", str(bound)), ("route", "/score"))
        values["creditops_request_seconds_bucket", labels] = count
    return Snapshot(values)


def test_figures_are_the_difference_between_snapshots_for_that_deployment_only() -> None:
    before = Snapshot({**_snapshot("green", 10, 1, (5, 10, 11, 11)).values, **_snapshot("blue", 0, 0, (0,) * 4).values})
    after = Snapshot(
        {**_snapshot("green", 108, 3, (5, 100, 111, 111)).values, **_snapshot("blue", 7, 7, (14,) * 4).values}
    )
    figures = deployment_figures(before, after, "green")
    assert (figures.requests, figures.errors) == (100, 2)
    assert figures.p99_ms == 10.0  # 99 of the 100 new answers took at most 10 ms, not all at most 5


def test_quantile_bound_of_nothing_observed_is_zero() -> None:
    assert quantile_bound({1.0: 3}, {1.0: 3}, 0.99) == 0.0
    assert quantile_bound({}, {}, 0.99) == 0.0


@pytest.mark.parametrize(("quantile", "bound"), [(0.5, 0.001), (0.51, 0.005), (1.0, 0.01)])
def test_quantile_bound_is_the_first_bucket_holding_that_share(quantile: float, bound: float) -> None:
    assert quantile_bound({}, {0.001: 50, 0.005: 99, 0.01: 100, float("inf"): 100}, quantile) == bound


def test_mirror_figures_of_one_deployment() -> None:
    labels = (("deployment", "green"),)
    before = Snapshot({})
    after = Snapshot(
        {
            ("creditops_mirror_requests_total", labels): 4,
            ("creditops_mirror_errors_total", labels): 1,
            ("creditops_mirror_rows_total", labels): 8,
            ("creditops_mirror_disagreements_total", labels): 2,
            ("creditops_mirror_abs_delta_sum", labels): 0.4,
            ("creditops_mirror_abs_delta_bucket", (*labels, ("le", "0.05"))): 6,
            ("creditops_mirror_abs_delta_bucket", (*labels, ("le", "0.1"))): 8,
            ("creditops_mirror_abs_delta_bucket", (("deployment", "blue"), ("le", "0.5"))): 8,
        }
    )
    figures = mirror_figures(before, after, "green")
    assert (figures.requests, figures.errors, figures.rows, figures.disagreements) == (4, 1, 8, 2)
    assert figures.agreement == 0.75
    assert figures.mean_abs_delta == pytest.approx(0.05)
    assert figures.max_abs_delta == 0.1


@given(st.integers(0, 100), st.integers(1, 500))
def test_exactly_the_share_of_requests_is_mirrored(percent: int, hundreds: int) -> None:
    count = sum(selected(n, percent) for n in range(1, 100 * hundreds + 1))
    assert count == percent * hundreds
    assert sum(selected(n, percent) for n in range(1, 101)) == percent
