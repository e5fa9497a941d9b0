"""Each gate threshold just inside and just outside its boundary, on data built so the outcome is known."""

import numpy as np
import pandas as pd
import pytest

from creditops.config.environments import GateSettings
from creditops.data.schema import LABEL
from creditops.gate.checks import approval_check, champion_check, minimum_check, run_gate, slice_check
from creditops.modelling.metrics import bootstrap_auc


def _interval(low: float, mean: float, high: float) -> dict[str, float]:
    return {"low": low, "mean": mean, "high": high}


@pytest.mark.parametrize(("auc", "verdict"), [(0.6999, "fail"), (0.7, "pass"), (0.7001, "pass")])
def test_minimum_roc_auc_at_its_boundary(auc: float, verdict: str) -> None:
    assert minimum_check(auc, GateSettings(min_roc_auc=0.7)).verdict == verdict


@pytest.mark.parametrize(
    ("low", "mean", "verdict"),
    [
        (-0.0099, -0.005, "pass"),  # lower bound just inside the allowed drop
        (-0.0100, -0.005, "pass"),  # exactly the allowed drop
        (-0.0101, +0.002, "fail"),  # just outside, although the mean difference is positive
        (-0.0200, +0.010, "fail"),  # a good mean never rescues a low bound
    ],
)
def test_champion_comparison_is_judged_on_the_lower_bound_not_the_mean(low: float, mean: float, verdict: str) -> None:
    intervals = {"candidate": _interval(0.7, 0.75, 0.8), "difference": _interval(low, mean, 0.02)}
    assert champion_check(intervals, "4", GateSettings(max_roc_auc_drop=0.01)).verdict == verdict


def test_first_model_passes_the_comparison_explicitly() -> None:
    check = champion_check({"candidate": _interval(0.7, 0.75, 0.8)}, None, GateSettings())
    assert (check.verdict, check.detail) == ("pass", "first model: there is no champion to compare with")


@pytest.mark.parametrize(
    ("required", "approver", "verdict"),
    [(False, None, "pass"), (True, None, "pending"), (True, "", "pending"), (True, "ana", "pass")],
)
def test_approval_is_pending_until_someone_approves_where_required(
    required: bool, approver: str | None, verdict: str
) -> None:
    assert approval_check(required, approver).verdict == verdict


def _scores(labels: np.ndarray, separation: float, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return labels * separation + rng.normal(0, 1, len(labels))


def test_the_confidence_level_sets_the_interval_width() -> None:
    rng = np.random.default_rng(5)
    labels = (rng.random(2_000) < 0.3).astype(int)
    candidate, champion = _scores(labels, 1.0, 1), _scores(labels, 1.0, 2)
    wide = bootstrap_auc(labels, candidate, champion, samples=300, confidence=0.95, seed=3)["difference"]
    narrow = bootstrap_auc(labels, candidate, champion, samples=300, confidence=0.90, seed=3)["difference"]
    assert wide["low"] < narrow["low"] < narrow["mean"] < narrow["high"] < wide["high"]
    assert wide["mean"] == pytest.approx(narrow["mean"])


def test_the_interval_is_the_percentile_of_the_resampled_differences() -> None:
    from sklearn.metrics import roc_auc_score

    from creditops.modelling.metrics import _POISSON_ONE

    rng = np.random.default_rng(6)
    labels = (rng.random(500) < 0.4).astype(int)
    candidate, champion = _scores(labels, 0.8, 1), _scores(labels, 0.6, 2)
    candidate[::7] = candidate[1::7][: len(candidate[::7])]  # ties across classes, which count one half
    result = bootstrap_auc(labels, candidate, champion, samples=200, confidence=0.9, seed=11)["difference"]
    # The same Poisson(1) weights (drawn in the candidate's score order), each resample's AUC by
    # scikit-learn's own weighted ROC AUC
    drawn = _POISSON_ONE[np.random.default_rng(11).integers(0, len(_POISSON_ONE), size=(200, len(labels)))]
    weights = np.empty_like(drawn)
    weights[:, np.argsort(candidate, kind="stable")] = drawn
    differences = np.array(
        [
            roc_auc_score(labels, candidate, sample_weight=w) - roc_auc_score(labels, champion, sample_weight=w)
            for w in weights
        ]
    )
    assert result["low"] == pytest.approx(np.percentile(differences, 5))
    assert result["high"] == pytest.approx(np.percentile(differences, 95))
    assert result["mean"] == pytest.approx(differences.mean())


def _slice_holdout(women: int, men: int) -> tuple[pd.DataFrame, np.ndarray]:
    """Rows whose SEX slices have the given sizes, half defaults in each; every other slice tiny."""
    sex = np.array([2] * women + [1] * men)
    labels = np.array([i % 2 for i in range(women)] + [i % 2 for i in range(men)])
    frame = pd.DataFrame({"SEX": sex, "EDUCATION": 9, "AGE": 250, LABEL: labels})  # in no other slice
    return frame, labels


def _candidate_losing(labels: np.ndarray, mask: np.ndarray, wrong_pairs_share: float) -> np.ndarray:
    """Perfect scores, except that inside `mask` a share of the positives rank below every negative."""
    scores = labels.astype(float).copy()
    positives = np.flatnonzero(mask & (labels == 1))
    flipped = positives[: round(wrong_pairs_share * len(positives))]
    scores[flipped] = -1.0
    return scores


@pytest.mark.parametrize(("share", "verdict"), [(0.24, "pass"), (0.25, "pass"), (0.26, "fail")])
def test_a_slice_may_lose_up_to_the_tolerance(share: float, verdict: str) -> None:
    holdout, labels = _slice_holdout(women=200, men=200)
    women = holdout["SEX"].to_numpy() == 2
    champion = labels.astype(float)  # AUC 1 in every slice
    candidate = _candidate_losing(labels, women, share)  # AUC 1 − share among women (0.25: exact in binary)
    check = slice_check(holdout, labels, candidate, champion, GateSettings(slice_tolerance=0.25, min_slice_rows=150))
    assert check.verdict == verdict
    assert check.data["SEX=female"]["drop"] == pytest.approx(share)
    if verdict == "pass":
        assert check.detail == "2 slices within 0.25 of the champion"
    else:
        assert check.detail == "over the 0.25 tolerance: SEX=female loses 0.2600"


def test_every_slice_over_the_tolerance_is_named_and_a_first_model_records_them_all() -> None:
    holdout, labels = _slice_holdout(women=200, men=200)
    women = holdout["SEX"].to_numpy() == 2
    candidate = np.minimum(_candidate_losing(labels, women, 0.5), _candidate_losing(labels, ~women, 0.5))
    check = slice_check(
        holdout, labels, candidate, labels.astype(float), GateSettings(slice_tolerance=0.1, min_slice_rows=150)
    )
    assert check.detail.startswith("over the 0.1 tolerance: SEX=male loses ")
    assert ", SEX=female loses " in check.detail
    first = slice_check(holdout, labels, candidate, None, GateSettings(min_slice_rows=150))
    assert (first.name, first.verdict) == ("slices", "pass")
    assert first.data["SEX=female"] == {"rows": 200, "judged": True, "candidate": pytest.approx(0.5)}
    assert first.data["EDUCATION=university"] == {"rows": 0, "judged": False}


@pytest.mark.parametrize(("rows", "judged"), [(149, False), (150, True)])
def test_slices_under_the_minimum_size_are_reported_not_judged(rows: int, judged: bool) -> None:
    holdout, labels = _slice_holdout(women=rows, men=200)
    women = holdout["SEX"].to_numpy() == 2
    candidate = _candidate_losing(labels, women, 0.5)  # a large loss, judged only in a big enough slice
    check = slice_check(
        holdout, labels, candidate, labels.astype(float), GateSettings(slice_tolerance=0.05, min_slice_rows=150)
    )
    assert check.data["SEX=female"]["judged"] is judged
    assert check.verdict == ("fail" if judged else "pass")


def test_modes_decide_whether_failures_block(small_frame: pd.DataFrame) -> None:
    labels = small_frame[LABEL].to_numpy()
    weak = np.random.default_rng(0).random(len(labels))
    settings = {"min_roc_auc": 0.9, "bootstrap_samples": 50, "min_slice_rows": 100}
    enabled = run_gate(
        small_frame,
        labels,
        weak,
        None,
        GateSettings(**settings),
        champion_version=None,
        approval_required=False,
        approver=None,
    )
    dry = run_gate(
        small_frame,
        labels,
        weak,
        None,
        GateSettings(mode="dry-run", **settings),
        champion_version=None,
        approval_required=False,
        approver=None,
    )
    off = run_gate(
        small_frame,
        labels,
        weak,
        None,
        GateSettings(mode="disabled", **settings),
        champion_version=None,
        approval_required=True,
        approver=None,
    )
    assert enabled.failed
    assert enabled.blocks
    assert dry.failed
    assert not dry.blocks
    assert not off.failed
    assert not off.blocks
    assert {check.name: check.verdict for check in off.checks}["approval"] == "pending"
