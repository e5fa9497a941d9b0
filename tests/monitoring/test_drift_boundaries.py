"""Drift decisions at their edges: PSI and the test's p-value together, the rate shift, the minimum rows."""

import pytest

from creditops.config.environments import MonitoringSettings
from creditops.monitoring.drift import feature_drifted, rate_shift_drifted, too_few_rows

SETTINGS = MonitoringSettings(psi=0.25, p_value=0.01, default_rate_shift=0.05, min_rows=200)


@pytest.mark.parametrize(
    ("psi", "p_value", "drifted"),
    [
        (0.26, 0.009, True),  # large and significant
        (0.26, 0.011, False),  # large but not significant: PSI alone is not drift
        (0.24, 0.0001, False),  # significant but small: the test alone is not drift
        (0.25, 0.009, False),  # PSI exactly at the threshold is not over it
        (0.26, 0.01, False),  # p-value exactly at the threshold is not under it
    ],
)
def test_a_feature_drifts_only_when_its_shift_is_large_and_significant(
    psi: float, p_value: float, drifted: bool
) -> None:
    assert feature_drifted(psi, p_value, SETTINGS) is drifted


@pytest.mark.parametrize(
    ("shift", "drifted"), [(0.049, False), (0.05, False), (0.051, True), (-0.051, True), (-0.049, False)]
)
def test_the_predicted_rate_may_move_up_to_the_allowed_shift_either_way(shift: float, drifted: bool) -> None:
    assert rate_shift_drifted(shift, SETTINGS) is drifted


@pytest.mark.parametrize(("rows", "too_few"), [(199, True), (200, False), (201, False)])
def test_drift_is_judged_from_the_minimum_rows_on(rows: int, too_few: bool) -> None:
    assert too_few_rows(rows, SETTINGS) is too_few
