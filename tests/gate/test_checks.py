import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from creditops.data.contract import uci
from creditops.data.schema import LABEL
from creditops.gate.checks import Thresholds, run_gate
from creditops.modelling.metrics import auc_by_row, bootstrap_auc


@pytest.fixture(scope="module")
def holdout(small_frame: pd.DataFrame) -> pd.DataFrame:
    return small_frame


@pytest.fixture(scope="module")
def scores(holdout: pd.DataFrame) -> np.ndarray:
    rng = np.random.default_rng(1)
    labels = holdout[LABEL].to_numpy()
    return np.clip(0.3 * labels + rng.normal(0.35, 0.2, len(labels)), 0, 1)


def _gate(holdout, candidate, champion, **overrides):
    settings = {"bootstrap_samples": 200, "min_slice_rows": 100, **overrides}
    required = settings.pop("approval_required", False)
    approver = settings.pop("approver", None)
    return run_gate(
        holdout,
        holdout[LABEL].to_numpy(),
        candidate,
        champion,
        Thresholds(**settings),
        contract=uci(),
        threshold=0.5,
        champion_version=None if champion is None else "4",
        approval_required=required,
        approver=approver,
    )


def test_auc_by_row_matches_scikit_learn_with_ties() -> None:
    labels = np.array([[0, 0, 1, 1, 0, 1], [1, 0, 1, 0, 0, 1]])
    scores = np.array([[0.1, 0.4, 0.35, 0.8, 0.4, 0.9], [0.2, 0.2, 0.5, 0.5, 0.1, 0.9]])
    expected = [roc_auc_score(labels[i], scores[i]) for i in range(2)]
    np.testing.assert_allclose(auc_by_row(labels, scores), expected)


def test_bootstrap_interval_holds_the_estimate_and_is_seeded(holdout, scores) -> None:
    labels = holdout[LABEL].to_numpy()
    first = bootstrap_auc(labels, scores, scores * 0.5, samples=200, confidence=0.95, seed=3)
    again = bootstrap_auc(labels, scores, scores * 0.5, samples=200, confidence=0.95, seed=3)
    assert first == again
    point = roc_auc_score(labels, scores)
    assert first["candidate"]["low"] < point < first["candidate"]["high"]
    assert first["difference"]["low"] == pytest.approx(0, abs=1e-12)  # a monotone transform: same AUC


def test_first_run_without_champion_is_explicit_and_passes(holdout, scores) -> None:
    result = _gate(holdout, scores, None, min_roc_auc=0.6)
    verdicts = {check.name: check.verdict for check in result.checks}
    assert verdicts["champion_comparison"] == "pass"
    assert "first model" in result.checks[2].detail
    assert verdicts["smoke_test"] == "pending"
    assert not result.blocks
    assert result.champion is None


def test_minimum_blocks_a_weak_model(holdout, scores) -> None:
    noise = np.random.default_rng(2).random(len(scores))
    result = _gate(holdout, noise, None, min_roc_auc=0.7)
    assert [check.name for check in result.failed] == ["minimum_roc_auc"]
    assert result.blocks


def test_a_candidate_clearly_worse_than_the_champion_fails_the_comparison(holdout, scores) -> None:
    worse = 0.5 * scores + 0.5 * np.random.default_rng(3).random(len(scores))
    result = _gate(holdout, worse, scores, min_roc_auc=0.5)
    check = next(check for check in result.checks if check.name == "champion_comparison")
    assert check.verdict == "fail"
    assert "may be up to 0.01 worse" in check.detail
    assert result.champion["difference_ci"]["high"] < 0


def test_equal_candidate_passes_within_tolerance(holdout, scores) -> None:
    result = _gate(holdout, scores, scores, min_roc_auc=0.5)
    assert not result.failed


def test_a_degraded_slice_fails_even_when_the_whole_is_fine(holdout, scores) -> None:
    women = uci().slice_masks(holdout)["SEX=female"]
    degraded = scores.copy()
    degraded[women] = np.random.default_rng(4).random(int(women.sum()))
    result = _gate(holdout, degraded, scores, min_roc_auc=0.5, max_roc_auc_drop=1.0)
    check = next(check for check in result.checks if check.name == "slices")
    assert check.verdict == "fail"
    assert "SEX=female" in check.detail


def test_dry_run_records_failures_without_blocking(holdout, scores) -> None:
    noise = np.random.default_rng(2).random(len(scores))
    result = _gate(holdout, noise, None, min_roc_auc=0.9, mode="dry-run")
    assert result.failed
    assert not result.blocks


def test_disabled_judges_nothing_but_approval(holdout, scores) -> None:
    result = _gate(holdout, scores, None, mode="disabled", approval_required=True)
    verdicts = {check.name: check.verdict for check in result.checks}
    assert verdicts["approval"] == "pending"
    assert {v for name, v in verdicts.items() if name != "approval"} == {"skip"}


def test_approval_is_pending_until_recorded(holdout, scores) -> None:
    pending = _gate(holdout, scores, None, min_roc_auc=0.5, approval_required=True)
    approved = _gate(holdout, scores, None, min_roc_auc=0.5, approval_required=True, approver="ana")
    assert pending.checks[-1].verdict == "pending"
    assert approved.checks[-1].detail == "approved by ana"


def test_bad_holdout_data_fails_the_data_check(holdout, scores) -> None:
    result = _gate(holdout.assign(SEX=5), scores, None, min_roc_auc=0.5)
    assert result.checks[0].verdict == "fail"


def test_smoke_verdict_is_updated_without_judging_again(holdout, scores) -> None:
    pending = _gate(holdout, scores, None, min_roc_auc=0.5)
    passed = pending.with_smoke("pass")
    assert {c.name: c.verdict for c in passed.checks}["smoke_test"] == "pass"
    assert [c for c in passed.checks if c.name != "smoke_test"] == [c for c in pending.checks if c.name != "smoke_test"]
    assert pending.with_smoke("fail").failed[0].name == "smoke_test"
