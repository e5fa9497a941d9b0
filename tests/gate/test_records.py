"""What the gate records, pinned whole: each check's verdict, detail and figures, and the summaries that go
into the evidence. People read these records to know why a model went to production."""

import json

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from creditops.config.environments import GateSettings
from creditops.data.checks import check_data
from creditops.data.contract import uci
from creditops.data.schema import LABEL
from creditops.gate.checks import Check, GateResult, approval_check, data_check, minimum_check, run_gate
from creditops.modelling.fairness import fairness_report, protected_groups
from creditops.modelling.metrics import bootstrap_auc

NAMES = [
    "data_checks",
    "minimum_roc_auc",
    "champion_comparison",
    "slices",
    "fairness",
    "directions",
    "smoke_test",
    "approval",
]
CONTRACT = uci()


@pytest.fixture(scope="module")
def scored(small_frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    labels = small_frame[LABEL].to_numpy()
    rng = np.random.default_rng(2)
    return labels, labels * 0.6 + rng.random(len(labels)), labels * 0.5 + rng.random(len(labels))


def test_the_summaries_hold_the_aucs_and_their_intervals(small_frame: pd.DataFrame, scored) -> None:
    labels, candidate, champion = scored
    settings = GateSettings(bootstrap_samples=60, seed=5, confidence=0.9, min_slice_rows=100)
    result = run_gate(
        small_frame,
        labels,
        candidate,
        champion,
        settings,
        contract=CONTRACT,
        threshold=0.5,
        champion_version="4",
        approval_required=True,
        approver=None,
    )
    intervals = bootstrap_auc(labels, candidate, champion, samples=60, confidence=0.9, seed=5)
    assert result.mode == "enabled"
    assert [check.name for check in result.checks] == NAMES
    assert result.candidate == {
        "roc_auc": pytest.approx(roc_auc_score(labels, candidate), rel=1e-12),
        "roc_auc_ci": intervals["candidate"],
    }
    assert result.champion == {
        "version": "4",
        "roc_auc": pytest.approx(roc_auc_score(labels, champion), rel=1e-12),
        "roc_auc_ci": intervals["champion"],
        "difference_ci": intervals["difference"],
    }
    comparison = result.checks[2]
    difference = intervals["difference"]
    assert comparison.data == difference
    assert comparison.detail == (
        f"ROC AUC difference vs champion v4: {difference['mean']:+.4f}"
        f" (90% CI {difference['low']:+.4f} … {difference['high']:+.4f}); may be up to 0.01 worse"
    )
    assert result.checks[5] == Check("directions", "skip", "no model given")
    assert result.checks[6] == Check("smoke_test", "pending", "runs on the new deployment before it gets traffic")
    assert result.checks[7] == Check("approval", "pending", "required and not recorded yet")
    assert result.as_dict()["checks"][7] == {
        "name": "approval",
        "verdict": "pending",
        "detail": "required and not recorded yet",
        "data": {},
    }


def test_a_first_model_has_no_champion_summary(small_frame: pd.DataFrame, scored) -> None:
    labels, candidate, _ = scored
    result = run_gate(
        small_frame,
        labels,
        candidate,
        None,
        GateSettings(bootstrap_samples=50),
        contract=CONTRACT,
        threshold=0.5,
        champion_version=None,
        approval_required=False,
        approver=None,
    )
    assert result.champion is None
    assert result.checks[3].detail == "first model: slice ROC AUCs recorded, no champion to compare"


def test_disabled_skips_every_check_but_approval_and_keeps_their_figures(small_frame: pd.DataFrame, scored) -> None:
    labels, candidate, champion = scored
    settings = GateSettings(mode="disabled", bootstrap_samples=50)
    result = run_gate(
        small_frame,
        labels,
        candidate,
        champion,
        settings,
        contract=CONTRACT,
        threshold=0.5,
        champion_version="4",
        approval_required=True,
        approver="ana",
    )
    enabled = run_gate(
        small_frame,
        labels,
        candidate,
        champion,
        GateSettings(bootstrap_samples=50),
        contract=CONTRACT,
        threshold=0.5,
        champion_version="4",
        approval_required=True,
        approver="ana",
    )
    assert result.mode == "disabled"
    for skipped, judged in zip(result.checks[:-1], enabled.checks[:-1], strict=True):
        assert skipped == Check(judged.name, "skip", "gate disabled", judged.data)
    assert result.checks[-1] == Check("approval", "pass", "approved by ana")
    assert result.with_smoke("pass") is result


def _against_champion(holdout: pd.DataFrame, scored) -> GateResult:
    """The gate of the candidate against champion v4, with no approval required."""
    labels, candidate, champion = scored
    return run_gate(
        holdout,
        labels,
        candidate,
        champion,
        GateSettings(bootstrap_samples=50),
        contract=CONTRACT,
        threshold=0.5,
        champion_version="4",
        approval_required=False,
        approver=None,
    )


@pytest.mark.parametrize(
    ("verdict", "detail"),
    [
        ("pass", "the new deployment answered the sample request correctly before it got traffic"),
        ("fail", "the new deployment failed its smoke test or a traffic step; traffic was restored"),
        ("skip", "not run"),
    ],
)
def test_the_smoke_verdict_replaces_only_the_smoke_check(
    small_frame: pd.DataFrame, scored, verdict: str, detail: str
) -> None:
    before = _against_champion(small_frame, scored)
    after = before.with_smoke(verdict)  # type: ignore[arg-type]
    assert after.checks[6] == Check("smoke_test", verdict, detail)
    assert after.checks[:6] == before.checks[:6]
    assert after.checks[7] == before.checks[7]
    assert (after.mode, after.candidate, after.champion) == (before.mode, before.candidate, before.champion)


def test_the_minimum_check_records_its_figures() -> None:
    assert minimum_check(0.75, GateSettings(min_roc_auc=0.7)) == Check(
        "minimum_roc_auc", "pass", "ROC AUC 0.7500 ≥ 0.7", {"roc_auc": 0.75, "minimum": 0.7}
    )
    assert minimum_check(0.65, GateSettings(min_roc_auc=0.7)) == Check(
        "minimum_roc_auc", "fail", "ROC AUC 0.6500 < 0.7", {"roc_auc": 0.65, "minimum": 0.7}
    )


def test_the_data_check_names_each_failure(small_frame: pd.DataFrame) -> None:
    assert data_check(small_frame, CONTRACT) == Check("data_checks", "pass", "2,000 holdout rows pass every data check")
    failed = data_check(small_frame.assign(SEX=7), CONTRACT)
    assert failed.verdict == "fail"
    assert "allowed_codes on 'SEX'" in failed.detail


def test_the_approval_check_names_the_approver() -> None:
    assert approval_check(False, None) == Check("approval", "pass", "not required in this environment")
    assert approval_check(True, "ana") == Check("approval", "pass", "approved by ana")


def test_the_gate_record_has_its_four_parts(small_frame: pd.DataFrame, scored) -> None:
    result = _against_champion(small_frame, scored)
    recorded = result.as_dict()
    assert set(recorded) == {"mode", "checks", "candidate", "champion"}
    assert (recorded["mode"], recorded["candidate"], recorded["champion"]) == (
        result.mode,
        result.candidate,
        result.champion,
    )


def test_a_failing_data_check_lists_every_failure(small_frame: pd.DataFrame) -> None:
    bad = small_frame.assign(SEX=7, EDUCATION=9)
    failed = data_check(bad, CONTRACT)
    assert failed.name == "data_checks"
    assert failed.detail == "; ".join(map(str, check_data(bad, CONTRACT)))
    assert "allowed_codes on 'SEX'" in failed.detail
    assert "allowed_codes on 'EDUCATION'" in failed.detail


def test_the_fairness_check_records_its_figures_as_json(
    small_frame: pd.DataFrame, scored: tuple[np.ndarray, np.ndarray, np.ndarray]
) -> None:
    labels, candidate, _ = scored
    settings = GateSettings(bootstrap_samples=50)
    result = run_gate(
        small_frame,
        labels,
        candidate,
        None,
        settings,
        contract=CONTRACT,
        threshold=1.0,
        champion_version=None,
        approval_required=False,
        approver=None,
    )
    fairness = result.checks[4]
    expected = fairness_report(labels, candidate, 1.0, protected_groups(CONTRACT, small_frame), min_rows=150)
    assert fairness.data == {
        **expected.as_dict(),
        "min_adverse_impact_ratio": 0.8,
        "max_equalized_odds_difference": 0.2,
    }
    assert list(fairness.data["columns"]) == ["SEX", "MARRIAGE", "AGE"]
    recorded = json.loads(json.dumps(result.as_dict()))["checks"][4]
    assert recorded == {
        "name": "fairness",
        "verdict": fairness.verdict,
        "detail": fairness.detail,
        "data": fairness.data,
    }
