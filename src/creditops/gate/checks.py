"""The promotion gate: named checks with thresholds as data, pure functions of scores and labels."""

from dataclasses import asdict, dataclass, field
from typing import Any, Final, Literal

import numpy as np
import pandas as pd

from creditops.config.environments import GateSettings
from creditops.data.checks import check_data
from creditops.data.contract import Contract
from creditops.modelling.estimators import TrainedModel
from creditops.modelling.fairness import (
    ColumnFairness,
    Gap,
    difference_meets,
    fairness_report,
    protected_groups,
    ratio_meets,
)
from creditops.modelling.metrics import bootstrap_auc, roc_auc, slice_aucs

Verdict = Literal["pass", "fail", "pending", "skip"]
Thresholds = GateSettings
"""What the gate demands: the environment file's gate settings, one model for both."""
DIRECTION_TOLERANCE: Final = 1e-9
"""How far a probability may move the wrong way before the directional check counts it (float noise)."""


@dataclass(frozen=True)
class Check:
    name: str
    verdict: Verdict
    detail: str
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class GateResult:
    """Every check's verdict and whether, in this mode, they block the promotion."""

    mode: str
    checks: tuple[Check, ...]
    candidate: dict[str, Any]
    champion: dict[str, Any] | None

    @property
    def failed(self) -> tuple[Check, ...]:
        return tuple(check for check in self.checks if check.verdict == "fail")

    @property
    def blocks(self) -> bool:
        return self.mode == "enabled" and bool(self.failed)

    def with_smoke(self, verdict: Verdict) -> "GateResult":
        """The same result once the smoke test of the new deployment has passed or failed."""
        if self.mode == "disabled":
            return self
        checks = tuple(
            Check(check.name, verdict, _smoke_detail(verdict)) if check.name == "smoke_test" else check
            for check in self.checks
        )
        return GateResult(self.mode, checks, self.candidate, self.champion)

    def as_dict(self) -> dict[str, Any]:
        return {
            "mode": self.mode,
            "checks": [asdict(check) for check in self.checks],
            "candidate": self.candidate,
            "champion": self.champion,
        }


def run_gate(
    holdout: pd.DataFrame,
    labels: np.ndarray,
    candidate: np.ndarray,
    champion: np.ndarray | None,
    thresholds: Thresholds,
    *,
    contract: Contract,
    threshold: float,
    champion_version: str | None,
    smoke: Verdict = "pending",
    approval_required: bool,
    approver: str | None,
    candidate_model: TrainedModel | None = None,
) -> GateResult:
    """Run every check on the same frozen holdout. `disabled` mode judges nothing but approval.

    `contract` is the candidate's (its slices and protected columns), `threshold` its decision threshold:
    the fairness check judges the decisions the candidate would make. The directional check re-scores
    changed rows with `candidate_model`; without one it is skipped."""
    intervals = bootstrap_auc(
        labels,
        candidate,
        champion,
        samples=thresholds.bootstrap_samples,
        confidence=thresholds.confidence,
        seed=thresholds.seed,
    )
    candidate_auc = roc_auc(labels, candidate)
    champion_auc = None if champion is None else roc_auc(labels, champion)
    checks = [
        data_check(holdout, contract),
        minimum_check(candidate_auc, thresholds),
        champion_check(intervals, champion_version, thresholds),
        slice_check(holdout, labels, candidate, champion, thresholds, contract),
        fairness_check(holdout, labels, candidate, threshold, thresholds, contract),
        directional_check(holdout, candidate_model),
        Check("smoke_test", smoke, _smoke_detail(smoke)),
        approval_check(approval_required, approver),
    ]
    if thresholds.mode == "disabled":
        checks = [
            check if check.name == "approval" else Check(check.name, "skip", "gate disabled", check.data)
            for check in checks
        ]
    candidate_summary = {"roc_auc": candidate_auc, "roc_auc_ci": intervals["candidate"]}
    champion_summary = None
    if champion is not None:
        champion_summary = {
            "version": champion_version,
            "roc_auc": champion_auc,
            "roc_auc_ci": intervals["champion"],
            "difference_ci": intervals["difference"],
        }
    return GateResult(thresholds.mode, tuple(checks), candidate_summary, champion_summary)


def data_check(holdout: pd.DataFrame, contract: Contract) -> Check:
    failures = check_data(holdout, contract)
    if failures:
        return Check("data_checks", "fail", "; ".join(map(str, failures)))
    return Check("data_checks", "pass", f"{len(holdout):,} holdout rows pass every data check")


def minimum_check(candidate_auc: float, thresholds: Thresholds) -> Check:
    """Pass when the candidate's ROC AUC on the holdout reaches the minimum (the minimum itself passes)."""
    verdict: Verdict = "pass" if candidate_auc >= thresholds.min_roc_auc else "fail"
    return Check(
        "minimum_roc_auc",
        verdict,
        f"ROC AUC {candidate_auc:.4f} {'≥' if verdict == 'pass' else '<'} {thresholds.min_roc_auc}",
        {"roc_auc": candidate_auc, "minimum": thresholds.min_roc_auc},
    )


def champion_check(intervals: dict[str, Any], champion_version: str | None, thresholds: Thresholds) -> Check:
    """Pass when the lower CI bound of AUC(candidate) − AUC(champion) is at least −max_roc_auc_drop:
    judged on the bound, not the mean, so a candidate is promoted only when it is credibly not worse."""
    if "difference" not in intervals:
        return Check("champion_comparison", "pass", "first model: there is no champion to compare with")
    difference = intervals["difference"]
    allowed = -thresholds.max_roc_auc_drop
    verdict: Verdict = "pass" if difference["low"] >= allowed else "fail"
    detail = (
        f"ROC AUC difference vs champion v{champion_version}: {difference['mean']:+.4f}"
        f" ({thresholds.confidence:.0%} CI {difference['low']:+.4f} … {difference['high']:+.4f});"
        f" may be up to {thresholds.max_roc_auc_drop} worse"
    )
    return Check("champion_comparison", verdict, detail, difference)


def slice_check(
    holdout: pd.DataFrame,
    labels: np.ndarray,
    candidate: np.ndarray,
    champion: np.ndarray | None,
    thresholds: Thresholds,
    contract: Contract,
) -> Check:
    """Pass when no slice of the contract (with enough rows and both outcomes) loses more ROC AUC against
    the champion than the tolerance: a model better on the whole may be worse for a group."""
    masks = contract.slice_masks(holdout)
    per_slice: dict[str, dict[str, Any]] = {}
    for name, mask in masks.items():
        rows = int(mask.sum())
        judged = rows >= thresholds.min_slice_rows and len(np.unique(labels[mask])) == 2
        per_slice[name] = {"rows": rows, "judged": judged}
    judged_masks = {name: masks[name] for name, entry in per_slice.items() if entry["judged"]}
    for name, auc in slice_aucs(labels, candidate, judged_masks).items():
        per_slice[name]["candidate"] = auc
    worst = []
    if champion is not None:
        for name, auc in slice_aucs(labels, champion, judged_masks).items():
            entry = per_slice[name]
            entry["champion"] = auc
            entry["drop"] = auc - entry["candidate"]
            if entry["drop"] > thresholds.slice_tolerance:
                worst.append(f"{name} loses {entry['drop']:.4f}")
    if champion is None:
        return Check("slices", "pass", "first model: slice ROC AUCs recorded, no champion to compare", per_slice)
    if worst:
        return Check(
            "slices", "fail", f"over the {thresholds.slice_tolerance} tolerance: {', '.join(worst)}", per_slice
        )
    judged_slices = sum(1 for entry in per_slice.values() if entry["judged"])
    detail = f"{judged_slices} slices within {thresholds.slice_tolerance} of the champion"
    return Check("slices", "pass", detail, per_slice)


def fairness_check(
    holdout: pd.DataFrame,
    labels: np.ndarray,
    candidate: np.ndarray,
    threshold: float,
    thresholds: Thresholds,
    contract: Contract,
) -> Check:
    """Pass when, for every protected column of the contract, the candidate's decisions at `threshold`
    approve each judged group at least `min_adverse_impact_ratio` times as often as the most approved one
    (the four-fifths rule) and its true and false positive rates differ between groups by at most
    `max_equalized_odds_difference`. Groups under `min_group_rows` rows are recorded, not judged. Protected
    columns never score, so this is where a model that learned them through other features shows."""
    if not contract.protected:
        return Check("fairness", "pass", "no protected columns in the contract")
    absent = [name for name in contract.protected if name not in holdout]
    if absent:
        return Check(
            "fairness",
            "fail",
            f"protected column(s) {', '.join(absent)} not in the holdout: fairness cannot be measured",
        )
    report = fairness_report(
        labels, candidate, threshold, protected_groups(contract, holdout), min_rows=thresholds.min_group_rows
    )
    data = {
        **report.as_dict(),
        "min_adverse_impact_ratio": thresholds.min_adverse_impact_ratio,
        "max_equalized_odds_difference": thresholds.max_equalized_odds_difference,
    }
    problems = [problem for column in report.columns for problem in _fairness_problems(column, thresholds)]
    if problems:
        return Check("fairness", "fail", "; ".join(problems), data)
    return Check("fairness", "pass", _fairness_summary(report.columns, thresholds), data)


def directional_check(holdout: pd.DataFrame, model: TrainedModel | None) -> Check:
    """Pass when, for every feature the model's contract gives a monotone direction, raising it one step on
    each holdout row never moves the model's probability of default the wrong way (beyond float noise).

    One step is the next allowed code of an integer category, else a tenth of the feature's spread on the
    holdout (of its declared range where the holdout does not vary), whole for whole-number features and
    kept within the declared range. The observed spread, not the declared range: a range is a validity
    bound, often far wider than the data (LIMIT_BAL's runs to 10,000,000), and a step past every row's
    neighbourhood would test nothing. Rows already at the top, or missing the feature, are not moved."""
    if model is None:
        return Check("directions", "skip", "no model given")
    contract = model.contract
    directed = {name: contract.columns[name].monotone for name in contract.features if contract.columns[name].monotone}
    if not directed:
        return Check("directions", "pass", "no feature of the contract declares a monotone direction")
    matrix = contract.feature_matrix(holdout)
    before = model.predict_proba(matrix)
    per_feature, problems = {}, []
    for name, direction in directed.items():
        position = contract.features.index(name)
        values = matrix[:, position]
        raised = _one_step_up(contract, name, values)
        moved = np.isfinite(values) & np.isfinite(raised) & (raised > values)
        changed = matrix[moved]
        changed[:, position] = raised[moved]
        shift = model.predict_proba(changed) - before[moved]
        wrong = -shift if direction == "increasing" else shift
        worst = float(wrong.max(initial=0.0))
        failing = int((wrong > DIRECTION_TOLERANCE).sum())
        per_feature[name] = {"direction": direction, "rows": int(moved.sum()), "wrong": failing, "worst": worst}
        if failing:
            problems.append(
                f"{name} ({direction}): {failing} of {int(moved.sum())} rows moved the wrong way, worst by {worst:.3g}"
            )
    if problems:
        return Check("directions", "fail", "; ".join(problems), per_feature)
    detail = (
        f"raising {', '.join(directed)} one step never moves the probability the wrong way"
        f" on {len(holdout):,} holdout rows"
    )
    return Check("directions", "pass", detail, per_feature)


def _one_step_up(contract: Contract, name: str, values: np.ndarray) -> np.ndarray:
    """`values` of feature `name` raised one step (NaN where no step up is allowed)."""
    low, high = contract.bounds(name)
    if contract.columns[name].type == "category":
        codes = np.array(sorted(contract.codes(name)))
        above = np.searchsorted(codes, values, side="right")
        return np.where(above < len(codes), codes[np.minimum(above, len(codes) - 1)], np.nan)
    seen = values[np.isfinite(values)]
    spread = float(seen.max() - seen.min()) if seen.size else 0.0
    if spread <= 0 and np.isfinite(high - low):
        spread = high - low
    step = 0.1 * spread if spread > 0 else 1.0
    if contract.whole(name):
        step = max(1.0, float(np.round(step)))
    return np.minimum(values + step, high)


def _fairness_problems(column: ColumnFairness, thresholds: Thresholds) -> list[str]:
    """One line per figure of `column` beyond its limit, naming the groups and their rates."""
    problems = []
    minimum, maximum = thresholds.min_adverse_impact_ratio, thresholds.max_equalized_odds_difference
    ratio, gap = column.adverse_impact_ratio, column.approval_gap
    if ratio is not None and gap is not None and not ratio_meets(ratio, minimum):
        problems.append(
            f"{column.column}: adverse impact ratio {_shown(ratio, minimum)} ({_groups(gap)}) below {minimum:g}"
        )
    difference, odds = column.equalized_odds_difference, column.odds_gap
    if difference is not None and odds is not None and not difference_meets(difference, maximum):
        problems.append(
            f"{column.column}: equalized odds difference {_shown(difference, maximum)}"
            f" ({column.odds_rate} {_groups(odds)}) above {maximum:g}"
        )
    return problems


def _fairness_summary(columns: tuple[ColumnFairness, ...], thresholds: Thresholds) -> str:
    judged = [column for column in columns if column.judged]
    unjudged = ", ".join(column.column for column in columns if not column.judged)
    groups = f"two groups of {thresholds.min_group_rows}+ rows with both outcomes"
    if not judged:
        return f"recorded, not judged: no protected column ({unjudged}) has {groups}"
    note = f"; {unjudged} not judged (fewer than {groups})" if unjudged else ""
    lowest = min(judged, key=lambda column: column.adverse_impact_ratio or 0.0)
    widest = max(judged, key=lambda column: column.equalized_odds_difference or 0.0)
    return (
        f"lowest adverse impact ratio {lowest.adverse_impact_ratio:.2f} ({lowest.column})"
        f" ≥ {thresholds.min_adverse_impact_ratio:g}, largest equalized odds difference"
        f" {widest.equalized_odds_difference:.2f} ({widest.column}) ≤ {thresholds.max_equalized_odds_difference:g}"
        + note
    )


def _groups(gap: Gap) -> str:
    return f"{gap.low_group} {gap.low:.0%} vs {gap.high_group} {gap.high:.0%}"


def _shown(value: float, limit: float) -> str:
    """`value` with two decimals, or more where two would round it onto the limit it misses."""
    for decimals in range(2, 7):
        shown = f"{value:.{decimals}f}"
        if float(shown) != limit:
            return shown
    return repr(value)


def _smoke_detail(verdict: Verdict) -> str:
    if verdict == "pending":
        return "runs on the new deployment before it gets traffic"
    if verdict == "fail":
        return "the new deployment failed its smoke test or a traffic step; traffic was restored"
    if verdict == "skip":
        return "not run"
    return "the new deployment answered the sample request correctly before it got traffic"


def approval_check(required: bool, approver: str | None) -> Check:
    if not required:
        return Check("approval", "pass", "not required in this environment")
    if approver:
        return Check("approval", "pass", f"approved by {approver}")
    return Check("approval", "pending", "required and not recorded yet")
