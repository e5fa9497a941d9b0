"""Drift of live traffic against the training reference: PSI and a distribution test per feature, and
the shift of the mean predicted probability of default. Pure functions of arrays; thresholds as data."""

from dataclasses import dataclass
from typing import Final

import numpy as np
from scipy.stats import chi2_contingency, ks_2samp

from creditops.config.environments import MonitoringSettings

PSI_BINS: Final = 10
EPSILON: Final = 1e-4


DriftThresholds = MonitoringSettings
"""When traffic counts as drifted: the environment file's monitoring settings, one model for both."""


@dataclass(frozen=True)
class FeatureDrift:
    feature: str
    psi: float
    test: str
    p_value: float
    drifted: bool
    categorical: bool = False

    def level(self, thresholds: "DriftThresholds") -> str:
        return feature_level(self.psi, self.p_value, thresholds)


@dataclass(frozen=True)
class DriftReport:
    rows: int
    reference_rows: int
    features: tuple[FeatureDrift, ...]
    reference_rate: float
    live_rate: float
    thresholds: DriftThresholds
    columns: tuple[str, ...] = ()
    """The names of the compared matrices' columns, in order."""

    @property
    def rate_shift(self) -> float:
        return self.live_rate - self.reference_rate

    @property
    def drifted_features(self) -> tuple[str, ...]:
        return tuple(item.feature for item in self.features if item.drifted)

    @property
    def drifted(self) -> bool:
        return bool(self.drifted_features) or rate_shift_drifted(self.rate_shift, self.thresholds)

    def summary(self) -> str:
        """'6 of 23 features drifted, 2 to watch; mean predicted probability of default 21.9% → 32.7% (+10.8 …)'."""
        levels = [item.level(self.thresholds) for item in self.features]
        watched = f", {levels.count('watch')} to watch" if "watch" in levels else ""
        return (
            f"{levels.count('drift')} of {len(levels)} features drifted{watched}; mean predicted probability of default"
            f" {self.reference_rate:.1%} → {self.live_rate:.1%} ({100 * self.rate_shift:+.1f} percentage points)"
        )


def feature_drifted(psi: float, p_value: float, thresholds: DriftThresholds) -> bool:
    """A feature drifts when its shift is both large (PSI over the threshold) and significant (the
    distribution test's p-value under its threshold): PSI alone flags noise on small samples, the test
    alone flags tiny shifts on large ones."""
    return psi > thresholds.psi and p_value < thresholds.p_value


WATCH_SHARE: Final = 0.4
"""A feature is watched when its PSI passes this share of the drift threshold (0.1 of 0.25: the usual
"some shift" band) while it does not drift."""


def feature_level(psi: float, p_value: float, thresholds: DriftThresholds) -> str:
    """drift (large and significant), watch (a PSI past 40 % of the threshold, or large but not yet
    significant), or stable."""
    if feature_drifted(psi, p_value, thresholds):
        return "drift"
    return "watch" if psi > WATCH_SHARE * thresholds.psi else "stable"


def rate_shift_drifted(rate_shift: float, thresholds: DriftThresholds) -> bool:
    """The mean predicted probability of default moved by more than the allowed shift, up or down."""
    return abs(rate_shift) > thresholds.default_rate_shift


def too_few_rows(rows: int, thresholds: DriftThresholds) -> bool:
    """Fewer logged rows than the minimum: too few to judge drift at all."""
    return rows < thresholds.min_rows


def population_stability_index(reference: np.ndarray, live: np.ndarray, categorical: bool = False) -> float:
    """PSI = Σ (live% − ref%) · ln(live% / ref%) over reference-quantile bins (or codes)."""
    if categorical:
        edges = np.unique(np.concatenate([reference, live]))
        expected = np.array([np.mean(reference == code) for code in edges])
        actual = np.array([np.mean(live == code) for code in edges])
    else:
        cuts = np.unique(np.quantile(reference, np.linspace(0, 1, PSI_BINS + 1)[1:-1]))
        expected = np.bincount(np.searchsorted(cuts, reference, side="right"), minlength=len(cuts) + 1) / len(reference)
        actual = np.bincount(np.searchsorted(cuts, live, side="right"), minlength=len(cuts) + 1) / len(live)
    expected = np.clip(expected, EPSILON, None)
    actual = np.clip(actual, EPSILON, None)
    return float(np.sum((actual - expected) * np.log(actual / expected)))


def distribution_test(reference: np.ndarray, live: np.ndarray, categorical: bool) -> tuple[str, float]:
    """The test's name and p-value: chi-square on the code counts, Kolmogorov-Smirnov on amounts."""
    if categorical:
        codes = np.unique(np.concatenate([reference, live]))
        table = np.array([[np.sum(reference == code) for code in codes], [np.sum(live == code) for code in codes]])
        if table.shape[1] < 2:
            return "chi-square", 1.0
        return "chi-square", float(chi2_contingency(table)[1])
    return "Kolmogorov-Smirnov", float(ks_2samp(reference, live).pvalue)


def _present(values: np.ndarray) -> np.ndarray:
    kept: np.ndarray = values[~np.isnan(values)]
    return kept


def compare(
    reference: np.ndarray,
    live: np.ndarray,
    reference_probability: np.ndarray,
    live_probability: np.ndarray,
    thresholds: DriftThresholds,
    columns: tuple[str, ...],
    categorical: frozenset[str],
) -> DriftReport:
    """Drift of each column (`columns` name the matrices' columns; `categorical` those compared by their
    codes) and of the mean predicted probability of default. Empty cells are left out of a column's comparison, and a
    column live traffic never sent (a protected column left out of the requests) is not judged."""
    features = []
    for position, name in enumerate(columns):
        kind = name in categorical
        ours, theirs = _present(reference[:, position]), _present(live[:, position])
        if not len(theirs) or not len(ours):
            continue
        psi = population_stability_index(ours, theirs, kind)
        test, p_value = distribution_test(ours, theirs, kind)
        features.append(FeatureDrift(name, psi, test, p_value, feature_drifted(psi, p_value, thresholds), kind))
    return DriftReport(
        rows=len(live),
        reference_rows=len(reference),
        features=tuple(features),
        reference_rate=float(np.mean(reference_probability)),
        live_rate=float(np.mean(live_probability)),
        thresholds=thresholds,
        columns=columns,
    )
