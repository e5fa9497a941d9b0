"""The promotion gate: named checks with thresholds as data, pure functions of scores and labels."""

from dataclasses import asdict, dataclass, field
from typing import Any, Final, Literal

import numpy as np
import pandas as pd
from scipy.stats import rankdata
from sklearn.metrics import roc_auc_score

from creditops.data.checks import check_data

Verdict = Literal["pass", "fail", "pending", "skip"]
SLICES: Final = {
    "SEX": {"male": (1,), "female": (2,)},
    "EDUCATION": {"graduate school": (1,), "university": (2,), "high school": (3,), "other": (0, 4, 5, 6)},
}
AGE_BANDS: Final = {"21-29": (0, 29), "30-39": (30, 39), "40-49": (40, 49), "50+": (50, 200)}


@dataclass(frozen=True)
class Thresholds:
    """What the gate demands; built from an environment's gate settings."""

    mode: str = "enabled"
    min_roc_auc: float = 0.7
    max_roc_auc_drop: float = 0.01
    bootstrap_samples: int = 300
    confidence: float = 0.95
    slice_tolerance: float = 0.05
    min_slice_rows: int = 150
    seed: int = 7


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


def auc_by_row(labels: np.ndarray, scores: np.ndarray) -> np.ndarray:
    """ROC AUC of each row of `scores` against the same row of `labels` (Mann-Whitney U, ties halved)."""
    ranks = rankdata(scores, axis=1)
    positives = labels.sum(axis=1)
    negatives = labels.shape[1] - positives
    with np.errstate(invalid="ignore", divide="ignore"):
        return ((ranks * labels).sum(axis=1) - positives * (positives + 1) / 2) / (positives * negatives)


def bootstrap_auc(
    labels: np.ndarray,
    candidate: np.ndarray,
    champion: np.ndarray | None,
    *,
    samples: int,
    confidence: float,
    seed: int,
) -> dict[str, Any]:
    """Percentile bootstrap intervals of the candidate's ROC AUC and of candidate − champion."""
    rng = np.random.default_rng(seed)
    rows = rng.integers(0, len(labels), size=(samples, len(labels)))
    drawn = labels[rows]
    tail = (1 - confidence) / 2 * 100
    candidate_auc = auc_by_row(drawn, candidate[rows])
    result = {"candidate": _interval(candidate_auc, tail)}
    if champion is not None:
        champion_auc = auc_by_row(drawn, champion[rows])
        result["champion"] = _interval(champion_auc, tail)
        result["difference"] = _interval(candidate_auc - champion_auc, tail)
    return result


def _interval(values: np.ndarray, tail: float) -> dict[str, float]:
    values = values[np.isfinite(values)]
    low, high = np.percentile(values, [tail, 100 - tail])
    return {"mean": float(values.mean()), "low": float(low), "high": float(high)}


def slice_masks(frame: pd.DataFrame) -> dict[str, np.ndarray]:
    """Boolean row masks of the SEX, EDUCATION and AGE-band slices."""
    masks = {}
    for column, groups in SLICES.items():
        for label, codes in groups.items():
            masks[f"{column}={label}"] = frame[column].isin(codes).to_numpy()
    for label, (low, high) in AGE_BANDS.items():
        masks[f"AGE={label}"] = frame["AGE"].between(low, high).to_numpy()
    return masks


def run_gate(
    holdout: pd.DataFrame,
    labels: np.ndarray,
    candidate: np.ndarray,
    champion: np.ndarray | None,
    thresholds: Thresholds,
    *,
    champion_version: str | None,
    smoke: Verdict = "pending",
    approval_required: bool,
    approver: str | None,
) -> GateResult:
    """Run every check on the same frozen holdout. `disabled` mode judges nothing but approval."""
    intervals = bootstrap_auc(
        labels,
        candidate,
        champion,
        samples=thresholds.bootstrap_samples,
        confidence=thresholds.confidence,
        seed=thresholds.seed,
    )
    candidate_auc = float(roc_auc_score(labels, candidate))
    champion_auc = None if champion is None else float(roc_auc_score(labels, champion))
    checks = [
        _data_check(holdout),
        _minimum_check(candidate_auc, thresholds),
        _champion_check(intervals, champion_version, thresholds),
        _slice_check(holdout, labels, candidate, champion, thresholds),
        Check("smoke_test", smoke, _smoke_detail(smoke)),
        _approval_check(approval_required, approver),
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


def _data_check(holdout: pd.DataFrame) -> Check:
    failures = check_data(holdout)
    if failures:
        return Check("data_checks", "fail", "; ".join(map(str, failures)))
    return Check("data_checks", "pass", f"{len(holdout):,} holdout rows pass every data check")


def _minimum_check(candidate_auc: float, thresholds: Thresholds) -> Check:
    verdict: Verdict = "pass" if candidate_auc >= thresholds.min_roc_auc else "fail"
    return Check(
        "minimum_roc_auc",
        verdict,
        f"ROC AUC {candidate_auc:.4f} {'≥' if verdict == 'pass' else '<'} {thresholds.min_roc_auc}",
        {"roc_auc": candidate_auc, "minimum": thresholds.min_roc_auc},
    )


def _champion_check(intervals: dict, champion_version: str | None, thresholds: Thresholds) -> Check:
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


def _slice_check(
    holdout: pd.DataFrame,
    labels: np.ndarray,
    candidate: np.ndarray,
    champion: np.ndarray | None,
    thresholds: Thresholds,
) -> Check:
    per_slice, worst = {}, []
    for name, mask in slice_masks(holdout).items():
        rows = int(mask.sum())
        judged = rows >= thresholds.min_slice_rows and len(np.unique(labels[mask])) == 2
        entry: dict[str, Any] = {"rows": rows, "judged": judged}
        if judged:
            entry["candidate"] = float(roc_auc_score(labels[mask], candidate[mask]))
            if champion is not None:
                entry["champion"] = float(roc_auc_score(labels[mask], champion[mask]))
                entry["drop"] = entry["champion"] - entry["candidate"]
                if entry["drop"] > thresholds.slice_tolerance:
                    worst.append(f"{name} loses {entry['drop']:.4f}")
        per_slice[name] = entry
    if champion is None:
        return Check("slices", "pass", "first model: slice ROC AUCs recorded, no champion to compare", per_slice)
    if worst:
        return Check(
            "slices", "fail", f"over the {thresholds.slice_tolerance} tolerance: {', '.join(worst)}", per_slice
        )
    judged = sum(entry["judged"] for entry in per_slice.values())
    return Check("slices", "pass", f"{judged} slices within {thresholds.slice_tolerance} of the champion", per_slice)


def _smoke_detail(verdict: Verdict) -> str:
    if verdict == "pending":
        return "runs on the new deployment before it gets traffic"
    if verdict == "fail":
        return "the new deployment failed its smoke test or a traffic step; traffic was restored"
    if verdict == "skip":
        return "not run"
    return "the new deployment answered the sample request correctly before it got traffic"


def _approval_check(required: bool, approver: str | None) -> Check:
    if not required:
        return Check("approval", "pass", "not required in this environment")
    if approver:
        return Check("approval", "pass", f"approved by {approver}")
    return Check("approval", "pending", "required and not recorded yet")
