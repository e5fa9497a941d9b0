"""Each gate threshold just inside and just outside its boundary, on data built so the outcome is known."""

import numpy as np
import pandas as pd
import pytest

from creditops.config.environments import GateSettings
from creditops.data.contract import Contract, uci
from creditops.data.schema import LABEL
from creditops.gate.checks import (
    Check,
    approval_check,
    champion_check,
    fairness_check,
    minimum_check,
    run_gate,
    slice_check,
)
from creditops.modelling.metrics import bootstrap_auc

CONTRACT = uci()


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

    from creditops.modelling.metrics import poisson_weights

    rng = np.random.default_rng(6)
    labels = (rng.random(500) < 0.4).astype(int)
    candidate, champion = _scores(labels, 0.8, 1), _scores(labels, 0.6, 2)
    candidate[::7] = candidate[1::7][: len(candidate[::7])]  # ties across classes, which count one half
    result = bootstrap_auc(labels, candidate, champion, samples=200, confidence=0.9, seed=11)["difference"]
    # The same Poisson(1) weights (drawn in the candidate's score order), each resample's AUC by
    # scikit-learn's own weighted ROC AUC
    drawn = poisson_weights(np.random.default_rng(11), 200, len(labels))
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
    settings = GateSettings(slice_tolerance=0.25, min_slice_rows=150)
    check = slice_check(holdout, labels, candidate, champion, settings, CONTRACT)
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
    settings = GateSettings(slice_tolerance=0.1, min_slice_rows=150)
    check = slice_check(holdout, labels, candidate, labels.astype(float), settings, CONTRACT)
    assert check.detail.startswith("over the 0.1 tolerance: SEX=male loses ")
    assert ", SEX=female loses " in check.detail
    first = slice_check(holdout, labels, candidate, None, GateSettings(min_slice_rows=150), CONTRACT)
    assert (first.name, first.verdict) == ("slices", "pass")
    assert first.data["SEX=female"] == {"rows": 200, "judged": True, "candidate": pytest.approx(0.5)}
    assert first.data["EDUCATION=university"] == {"rows": 0, "judged": False}


@pytest.mark.parametrize(("rows", "judged"), [(149, False), (150, True)])
def test_slices_under_the_minimum_size_are_reported_not_judged(rows: int, judged: bool) -> None:
    holdout, labels = _slice_holdout(women=rows, men=200)
    women = holdout["SEX"].to_numpy() == 2
    candidate = _candidate_losing(labels, women, 0.5)  # a large loss, judged only in a big enough slice
    settings = GateSettings(slice_tolerance=0.05, min_slice_rows=150)
    check = slice_check(holdout, labels, candidate, labels.astype(float), settings, CONTRACT)
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
        contract=CONTRACT,
        threshold=0.5,
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
        contract=CONTRACT,
        threshold=0.5,
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
        contract=CONTRACT,
        threshold=0.5,
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


def _fairness_holdout(groups: dict[int, tuple[int, int, int, int]]) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """Rows per SEX code: (defaulters declined, defaulters approved, good payers declined, good payers
    approved). Everyone married and 35: MARRIAGE and AGE have one group each, nothing to compare."""
    sex, labels, probability = [], [], []
    for code, counts in groups.items():
        for (label, declined), rows in zip([(1, True), (1, False), (0, True), (0, False)], counts, strict=True):
            sex += [code] * rows
            labels += [label] * rows
            probability += [0.9 if declined else 0.1] * rows
    frame = pd.DataFrame({"SEX": sex, "MARRIAGE": 1, "AGE": 35, LABEL: labels})
    return frame, np.array(labels), np.array(probability)


def _fairness(groups: dict[int, tuple[int, int, int, int]], **limits: float) -> Check:
    holdout, labels, probability = _fairness_holdout(groups)
    return fairness_check(holdout, labels, probability, 0.5, GateSettings(**limits), CONTRACT)


@pytest.mark.parametrize(
    ("women_approved", "verdict"),
    [(161, "pass"), (160, "pass"), (159, "fail")],  # 160 of 200 against all 200 men: exactly 0.8
)
def test_the_adverse_impact_ratio_may_reach_the_four_fifths_rule(women_approved: int, verdict: str) -> None:
    men = (0, 100, 0, 100)  # every man approved
    women = (200 - women_approved, women_approved - 100, 0, 100)  # good payers approved, some defaulters too
    check = _fairness({1: men, 2: women}, min_adverse_impact_ratio=0.8, max_equalized_odds_difference=1.0)
    assert (check.name, check.verdict) == ("fairness", verdict)
    sex = check.data["columns"]["SEX"]
    assert sex["adverse_impact_ratio"] == pytest.approx(women_approved / 200)
    if verdict == "fail":
        assert check.detail == "SEX: adverse impact ratio 0.795 (female 80% vs male 100%) below 0.8"
    else:
        assert check.detail.startswith(f"lowest adverse impact ratio {min(women_approved / 200, 1):.2f} (SEX) ≥ 0.8")


def test_a_ratio_the_counts_meet_exactly_passes_whatever_the_division_rounds_to() -> None:
    check = _fairness(
        {1: (95, 0, 0, 5), 2: (96, 0, 0, 4)},  # 4% of 100 against 5% of 100: 0.7999999999999999 as floats
        min_adverse_impact_ratio=0.8,
        max_equalized_odds_difference=1.0,
        min_group_rows=100,
    )
    assert check.data["columns"]["SEX"]["adverse_impact_ratio"] < 0.8
    assert check.verdict == "pass"


@pytest.mark.parametrize(
    ("women_declined", "verdict"),
    [(79, "pass"), (80, "pass"), (81, "fail")],  # TPR 0.80 against 0.70: exactly 0.1 (0.10000000000000009)
)
def test_the_equalized_odds_difference_may_reach_its_maximum(women_declined: int, verdict: str) -> None:
    men = (70, 30, 0, 100)  # TPR 0.70, FPR 0
    women = (women_declined, 100 - women_declined, 0, 100)
    check = _fairness({1: men, 2: women}, min_adverse_impact_ratio=0.0, max_equalized_odds_difference=0.1)
    assert check.verdict == verdict
    sex = check.data["columns"]["SEX"]
    assert sex["equalized_odds_difference"] == pytest.approx(women_declined / 100 - 0.7)
    assert sex["odds_rate"] == "TPR"
    if verdict == "fail":
        assert check.detail == "SEX: equalized odds difference 0.11 (TPR male 70% vs female 81%) above 0.1"


def test_every_figure_beyond_its_limit_is_named_in_one_line() -> None:
    check = _fairness(
        {1: (10, 90, 0, 100), 2: (90, 10, 50, 50)},  # women: approved 30% vs 95%, TPR 0.9 vs 0.1, FPR 0.5 vs 0
        min_adverse_impact_ratio=0.8,
        max_equalized_odds_difference=0.2,
    )
    assert check.verdict == "fail"
    assert check.detail == (
        "SEX: adverse impact ratio 0.32 (female 30% vs male 95%) below 0.8;"
        " SEX: equalized odds difference 0.80 (TPR male 10% vs female 90%) above 0.2"
    )


@pytest.mark.parametrize(("women", "judged"), [(149, False), (150, True)])
def test_protected_groups_under_the_minimum_rows_are_recorded_not_judged(women: int, judged: bool) -> None:
    check = _fairness({1: (0, 100, 0, 100), 2: (women - 50, 0, 0, 50)}, min_group_rows=150)  # women mostly declined
    assert [group["judged"] for group in check.data["columns"]["SEX"]["groups"]] == [True, judged]
    assert check.verdict == ("fail" if judged else "pass")
    if not judged:
        assert check.detail == (
            "recorded, not judged: no protected column (SEX, MARRIAGE, AGE) has two groups of 150+ rows with"
            " both outcomes"
        )


def test_the_passing_detail_gives_the_worst_figures_and_what_was_not_judged() -> None:
    check = _fairness({1: (20, 80, 10, 90), 2: (30, 70, 10, 90)})
    assert check.verdict == "pass"
    assert check.detail == (
        "lowest adverse impact ratio 0.94 (SEX) ≥ 0.8, largest equalized odds difference 0.10 (SEX) ≤ 0.2;"
        " MARRIAGE, AGE not judged (fewer than two groups of 150+ rows with both outcomes)"
    )
    assert check.data["min_adverse_impact_ratio"] == 0.8
    assert check.data["max_equalized_odds_difference"] == 0.2
    assert check.data["threshold"] == 0.5


def _without_protected_columns() -> Contract:
    payload = CONTRACT.model_dump(mode="json")
    for name in CONTRACT.protected:
        payload["columns"][name]["role"] = "feature"
    return Contract.model_validate(payload)


def test_a_contract_without_protected_columns_passes_and_says_so() -> None:
    holdout, labels, probability = _fairness_holdout({1: (100, 0, 0, 100), 2: (0, 100, 100, 0)})
    check = fairness_check(holdout, labels, probability, 0.5, GateSettings(), _without_protected_columns())
    assert (check.verdict, check.detail, check.data) == ("pass", "no protected columns in the contract", {})


def test_a_protected_column_missing_from_the_holdout_fails() -> None:
    holdout, labels, probability = _fairness_holdout({1: (0, 100, 0, 100), 2: (0, 100, 0, 100)})
    check = fairness_check(holdout.drop(columns="AGE"), labels, probability, 0.5, GateSettings(), CONTRACT)
    assert (check.verdict, check.detail) == (
        "fail",
        "protected column(s) AGE not in the holdout: fairness cannot be measured",
    )


def test_the_threshold_decides_who_is_approved() -> None:
    holdout, labels, _ = _fairness_holdout({1: (0, 100, 0, 100), 2: (0, 100, 0, 100)})
    probability = np.where(holdout["SEX"] == 2, 0.4, 0.2)  # women approved below 0.5, declined from 0.4
    lenient = fairness_check(holdout, labels, probability, 0.5, GateSettings(), CONTRACT)
    strict = fairness_check(holdout, labels, probability, 0.4, GateSettings(), CONTRACT)
    assert lenient.verdict == "pass"
    assert strict.verdict == "fail"
    assert strict.detail.startswith("SEX: adverse impact ratio 0.00 (female 0% vs male 100%) below 0.8")
