"""Drift decisions at their edges: PSI and the test's p-value together, the rate shift, the minimum rows."""

import numpy as np
import pytest
from scipy.stats import chi2_contingency, ks_2samp

from creditops.config.environments import MonitoringSettings
from creditops.data.contract import uci
from creditops.monitoring.drift import (
    EPSILON,
    DriftReport,
    FeatureDrift,
    compare,
    distribution_test,
    feature_drifted,
    feature_level,
    population_stability_index,
    rate_shift_drifted,
    too_few_rows,
)

FEATURES = uci().request_columns
SETTINGS = MonitoringSettings(psi=0.25, p_value=0.01, default_rate_shift=0.05, min_rows=200)


def _columns(frame):
    """The UCI request columns of a frame, as the request log keeps them."""
    return uci().encoded(frame, uci().request_columns)


_NAMES = (uci().request_columns, uci().coded_columns)


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
    ("psi", "p_value", "level"),
    [
        (0.26, 0.009, "drift"),
        (0.26, 0.011, "watch"),  # large, not yet significant
        (0.1001, 0.5, "watch"),  # past 40 % of the threshold
        (0.1, 0.0001, "stable"),  # exactly 40 % of the threshold is not past it
        (0.0, 0.0, "stable"),
    ],
)
def test_a_feature_is_watched_between_stable_and_drift(psi: float, p_value: float, level: str) -> None:
    assert feature_level(psi, p_value, SETTINGS) == level
    assert (
        FeatureDrift("PAY_0", psi, "chi-square", p_value, feature_drifted(psi, p_value, SETTINGS)).level(SETTINGS)
        == level
    )


def test_the_summary_counts_levels_and_the_rate_shift_in_points() -> None:
    features = (
        FeatureDrift("PAY_0", 0.3, "chi-square", 0.001, True),
        FeatureDrift("PAY_2", 0.2, "chi-square", 0.001, False),
        FeatureDrift("AGE", 0.01, "Kolmogorov-Smirnov", 0.9, False),
    )
    report = DriftReport(800, 3000, features, 0.219, 0.327, SETTINGS)
    assert report.summary() == (
        "1 of 3 features drifted, 1 to watch; mean predicted probability of default 21.9% → 32.7%"
        " (+10.8 percentage points)"
    )
    calm = DriftReport(800, 3000, features[2:], 0.2, 0.19, SETTINGS)
    assert calm.summary() == (
        "0 of 1 features drifted; mean predicted probability of default 20.0% → 19.0% (-1.0 percentage points)"
    )


@pytest.mark.parametrize(
    ("shift", "drifted"), [(0.049, False), (0.05, False), (0.051, True), (-0.051, True), (-0.049, False)]
)
def test_the_predicted_rate_may_move_up_to_the_allowed_shift_either_way(shift: float, drifted: bool) -> None:
    assert rate_shift_drifted(shift, SETTINGS) is drifted


@pytest.mark.parametrize(("rows", "too_few"), [(199, True), (200, False), (201, False)])
def test_drift_is_judged_from_the_minimum_rows_on(rows: int, too_few: bool) -> None:
    assert too_few_rows(rows, SETTINGS) is too_few


def test_psi_on_quantile_bins_matches_a_hand_computation() -> None:
    reference = np.arange(1000, dtype=float)  # deciles at 99.9, 199.8, …: ten bins of 100 rows
    live = np.concatenate([np.zeros(500), np.full(500, 999.0)])  # half in the first bin, half in the last
    expected_share = np.full(10, 0.1)
    live_share = np.clip(np.array([0.5, *[0.0] * 8, 0.5]), EPSILON, None)
    expected = float(np.sum((live_share - expected_share) * np.log(live_share / expected_share)))
    assert population_stability_index(reference, live) == pytest.approx(expected)


def test_psi_on_codes_counts_codes_seen_only_live() -> None:
    reference = np.array([1] * 100)
    live = np.array([1] * 50 + [2] * 50)
    shares = np.clip(np.array([1.0, 0.0]), EPSILON, None), np.array([0.5, 0.5])
    expected = float(np.sum((shares[1] - shares[0]) * np.log(shares[1] / shares[0])))
    assert population_stability_index(reference, live, categorical=True) == pytest.approx(expected)


def test_the_distribution_tests_are_the_named_scipy_tests() -> None:
    rng = np.random.default_rng(3)
    reference, live = rng.normal(size=500), rng.normal(0.3, 1, size=400)
    assert distribution_test(reference, live, categorical=False) == (
        "Kolmogorov-Smirnov",
        ks_2samp(reference, live).pvalue,
    )
    codes_ref, codes_live = rng.integers(1, 4, 600), rng.integers(1, 3, 300)
    table = np.array([[np.sum(codes_ref == c) for c in (1, 2, 3)], [np.sum(codes_live == c) for c in (1, 2, 3)]])
    name, p_value = distribution_test(codes_ref, codes_live, categorical=True)
    assert name == "chi-square"
    assert p_value == pytest.approx(chi2_contingency(table)[1])
    assert distribution_test(np.ones(50), np.ones(40), categorical=True) == ("chi-square", 1.0)
    two = distribution_test(np.array([1] * 60 + [2] * 40), np.array([1] * 20 + [2] * 80), categorical=True)
    assert two == ("chi-square", pytest.approx(chi2_contingency(np.array([[60, 40], [20, 80]]))[1]))


def test_psi_on_codes_tells_which_code_moved() -> None:
    reference = np.array([1] * 50 + [2] * 30 + [3] * 20)
    live = np.array([1] * 20 + [2] * 30 + [3] * 50)
    share_ref, share_live = np.array([0.5, 0.3, 0.2]), np.array([0.2, 0.3, 0.5])
    expected = float(np.sum((share_live - share_ref) * np.log(share_live / share_ref)))
    assert population_stability_index(reference, live, categorical=True) == pytest.approx(expected)


def test_psi_counts_an_empty_top_bin_and_values_on_a_cut() -> None:
    reference = np.arange(1000, dtype=float)
    live = np.zeros(100)  # every live value in the first bin: the nine others are empty
    share = np.clip(np.array([1.0, *[0.0] * 9]), EPSILON, None)
    expected = float(np.sum((share - 0.1) * np.log(share / 0.1)))
    assert population_stability_index(reference, live) == pytest.approx(expected)
    # reference quantiles fall on its own values (cuts 0, 0.5, 1): a value on a cut goes to the bin above
    on_cuts = population_stability_index(np.repeat([0.0, 1.0], 500), np.ones(100))
    reference_share = np.clip(np.array([0.0, 0.5, 0.0, 0.5]), EPSILON, None)
    live_share = np.clip(np.array([0.0, 0.0, 0.0, 1.0]), EPSILON, None)
    expected = float(np.sum((live_share - reference_share) * np.log(live_share / reference_share)))
    assert on_cuts == pytest.approx(expected)


def test_compare_reports_rows_rates_and_each_feature(small_frame) -> None:
    features = _columns(small_frame)
    report = compare(features[:1200], features[1200:], np.full(1200, 0.2), np.full(800, 0.3), SETTINGS, *_NAMES)
    assert (report.rows, report.reference_rows) == (800, 1200)
    assert report.reference_rate == pytest.approx(0.2)
    assert report.live_rate == pytest.approx(0.3)
    assert report.rate_shift == pytest.approx(0.1)
    assert [item.feature for item in report.features] == list(FEATURES)
    sex = report.features[FEATURES.index("SEX")]
    assert sex.test == "chi-square"
    assert sex.psi == pytest.approx(
        population_stability_index(features[:1200, 1], features[1200:, 1], categorical=True)
    )
    assert report.features[0].test == "Kolmogorov-Smirnov"
    assert sex.p_value == distribution_test(features[:1200, 1], features[1200:, 1], categorical=True)[1]
    assert report.drifted  # by the rate shift alone
