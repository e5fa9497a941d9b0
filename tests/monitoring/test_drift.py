import numpy as np
import pytest

from creditops.data.contract import uci
from creditops.data.synth import synthesize
from creditops.monitoring.drift import DriftThresholds, compare, population_stability_index


def _columns(frame):
    """The UCI request columns of a frame, as the request log keeps them."""
    return uci().encoded(frame, uci().request_columns)


_NAMES = (uci().request_columns, uci().coded_columns)


def test_psi_of_the_same_distribution_is_zero() -> None:
    values = np.random.default_rng(0).normal(size=5_000)
    assert population_stability_index(values, values) == pytest.approx(0.0, abs=1e-12)


def test_psi_matches_a_hand_computed_value_on_codes() -> None:
    reference = np.array([1] * 50 + [2] * 50)
    live = np.array([1] * 80 + [2] * 20)
    expected = (0.8 - 0.5) * np.log(0.8 / 0.5) + (0.2 - 0.5) * np.log(0.2 / 0.5)
    assert population_stability_index(reference, live, categorical=True) == pytest.approx(expected)


def test_psi_grows_with_the_shift() -> None:
    rng = np.random.default_rng(1)
    reference = rng.normal(size=20_000)
    small = population_stability_index(reference, rng.normal(0.1, 1, 20_000))
    large = population_stability_index(reference, rng.normal(1.0, 1, 20_000))
    assert small < 0.1 < 0.25 < large


def test_same_population_shows_no_drift() -> None:
    reference, live = synthesize(4_000, 1), synthesize(2_000, 2)
    report = compare(
        _columns(reference), _columns(live), np.full(4_000, 0.2), np.full(2_000, 0.2), DriftThresholds(), *_NAMES
    )
    assert report.drifted_features == ()
    assert not report.drifted


@pytest.mark.parametrize(("kind", "feature"), [("delinquency", "PAY_0"), ("limits", "LIMIT_BAL")])
def test_synthetic_drift_is_caught_on_its_feature(kind: str, feature: str) -> None:
    reference, live = synthesize(4_000, 1), synthesize(2_000, 2, kind)
    report = compare(
        _columns(reference), _columns(live), np.full(4_000, 0.2), np.full(2_000, 0.2), DriftThresholds(), *_NAMES
    )
    assert feature in report.drifted_features
    assert report.drifted


def test_a_shift_of_the_predicted_default_rate_alone_is_drift() -> None:
    frame = synthesize(1_000, 3)
    report = compare(
        _columns(frame), _columns(frame), np.full(1_000, 0.2), np.full(1_000, 0.3), DriftThresholds(), *_NAMES
    )
    assert report.drifted_features == ()
    assert report.rate_shift == pytest.approx(0.1)
    assert report.drifted


def test_a_column_live_traffic_never_sent_is_not_judged_and_empty_cells_are_left_out() -> None:
    reference, live = _columns(synthesize(3_000, 1)).copy(), _columns(synthesize(1_000, 2)).copy()
    names = uci().request_columns
    live[:, names.index("SEX")] = np.nan  # requests without the protected column
    live[:10, names.index("LIMIT_BAL")] = np.nan  # a few empty cells
    report = compare(reference, live, np.full(3_000, 0.2), np.full(1_000, 0.2), DriftThresholds(), *_NAMES)
    judged = [item.feature for item in report.features]
    assert "SEX" not in judged
    assert judged == [name for name in names if name != "SEX"]  # every other column, in order
    assert report.columns == names
    limit = next(item for item in report.features if item.feature == "LIMIT_BAL")
    assert np.isfinite(limit.psi)
    assert next(item for item in report.features if item.feature == "PAY_0").categorical
    assert not limit.categorical
    empty_reference = reference.copy()
    empty_reference[:, names.index("AGE")] = np.nan
    report = compare(empty_reference, live, np.full(3_000, 0.2), np.full(1_000, 0.2), DriftThresholds(), *_NAMES)
    assert "AGE" not in [item.feature for item in report.features]
