"""The directional check at its boundaries: a probability that moves the wrong way by more than 1e-9 when a
feature with a declared direction rises one step fails, naming the feature, the rows and the worst move."""

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pytest

from creditops.config.environments import GateSettings
from creditops.data.contract import Contract, uci
from creditops.gate.checks import _one_step_up, directional_check, run_gate
from creditops.modelling.estimators import TrainedModel


def _contract(direction: str | None = "increasing", range_: list | None = None) -> Contract:
    return Contract.model_validate(
        {
            "name": "shop",
            "label": {"column": "bad", "positive": 1},
            "columns": {
                "usage": {"type": "integer", "range": range_ or [0, 100], "monotone": direction},
                "grade": {"type": "category", "categories": [3, 1, 2]},
                "bad": {"role": "label", "type": "category", "categories": [0, 1]},
            },
        }
    )


@dataclass(frozen=True)
class _Scorer:
    """A stand-in for a trained model: a probability from the feature matrix."""

    contract: Contract
    probability: Callable[[np.ndarray], np.ndarray]

    def predict_proba(self, features: np.ndarray | pd.DataFrame, *, threads: int = 1) -> np.ndarray:
        matrix = self.contract.feature_matrix(features) if isinstance(features, pd.DataFrame) else features
        return self.probability(matrix)


def _holdout(usage: list[float]) -> pd.DataFrame:
    return pd.DataFrame({"usage": usage, "grade": [1] * len(usage), "bad": [0] * len(usage)})


def _check(scorer: _Scorer, holdout: pd.DataFrame):  # type: ignore[no-untyped-def]
    return directional_check(holdout, scorer)  # type: ignore[arg-type]


@pytest.mark.parametrize(("drop", "verdict"), [(0.0, "pass"), (1e-9, "pass"), (1.5e-9, "fail"), (0.2, "fail")])
def test_a_move_the_wrong_way_fails_beyond_float_noise(drop: float, verdict: str) -> None:
    # Given every holdout row at usage 4 (no spread: the step is a tenth of the declared range, 10)
    holdout = _holdout([4, 4, 4])
    # when a model gives `drop` less probability from usage 5 on
    scorer = _Scorer(_contract(), lambda matrix: np.where(matrix[:, 0] >= 5, -drop, 0.0))
    check = _check(scorer, holdout)
    # then the check fails only beyond the tolerance, naming what moved
    assert (check.name, check.verdict) == ("directions", verdict)
    assert check.data["usage"] == {
        "direction": "increasing",
        "rows": 3,
        "wrong": 3 if verdict == "fail" else 0,
        "worst": drop,
    }
    if verdict == "fail":
        assert check.detail == f"usage (increasing): 3 of 3 rows moved the wrong way, worst by {drop:.3g}"


def test_a_decreasing_feature_may_not_raise_the_probability() -> None:
    holdout = _holdout([0, 10, 20, 30])
    rising = _Scorer(_contract("decreasing"), lambda matrix: matrix[:, 0] / 1000)
    falling = _Scorer(_contract("decreasing"), lambda matrix: 1 - matrix[:, 0] / 1000)
    assert _check(falling, holdout).verdict == "pass"
    failed = _check(rising, holdout)
    assert failed.verdict == "fail"
    assert failed.detail.startswith("usage (decreasing): 4 of 4 rows moved the wrong way, worst by 0.003")


def test_the_step_is_a_tenth_of_the_holdouts_spread_whole_and_within_the_range() -> None:
    contract = _contract(range_=[0, 36])
    values = np.array([0.0, 10.0, 20.0, 35.0, 36.0, np.nan])
    raised = _one_step_up(contract, "usage", values)  # spread 36: a step of 3.6, whole: 4
    np.testing.assert_array_equal(raised[:5], [4.0, 14.0, 24.0, 36.0, 36.0])
    assert np.isnan(raised[5])


def _numbers(range_: list | None) -> Contract:
    return Contract.model_validate(
        {
            "name": "shop",
            "label": {"column": "bad", "positive": 1},
            "columns": {
                "rate": {"type": "number", "range": range_, "monotone": "increasing"},
                "bad": {"role": "label", "type": "category", "categories": [0, 1]},
            },
        }
    )


@pytest.mark.parametrize(
    ("range_", "values", "raised"),
    [
        ([0, 1000], [2.0, 7.0, 12.0], [3.0, 8.0, 13.0]),  # a tenth of the spread 10 (not of the range)
        ([-50, 1000], [-20.0, -10.0], [-19.0, -9.0]),  # a spread, not the sum of the ends
        ([0, 40], [5.0, 5.0], [9.0, 9.0]),  # a constant holdout: a tenth of the declared range
        ([-30, 10], [5.0], [9.0]),  # the range's width, not the sum of its ends
        ([0, None], [5.0, 5.0], [6.0, 6.0]),  # constant and unbounded: a step of 1
        ([0, 1000], [0.5, 0.9], [0.54, 0.94]),  # a spread below 1 still steps a tenth of it
        ([0, None], [], []),
    ],
)
def test_a_number_rises_a_tenth_of_its_spread_else_of_its_range_else_one(
    range_: list, values: list[float], raised: list[float]
) -> None:
    np.testing.assert_allclose(_one_step_up(_numbers(range_), "rate", np.array(values)), raised)


def test_a_whole_number_rises_by_at_least_one() -> None:
    raised = _one_step_up(_contract(range_=[0, 100]), "usage", np.array([3.0, 4.0, 5.0]))  # spread 2: 0.2 → 1
    np.testing.assert_array_equal(raised, [4.0, 5.0, 6.0])


def test_rows_at_the_top_or_missing_the_feature_are_not_moved() -> None:
    holdout = _holdout([100, 100, np.nan, 50])
    scorer = _Scorer(_contract(), lambda matrix: np.zeros(len(matrix)))
    assert _check(scorer, holdout).data["usage"]["rows"] == 1


def test_an_integer_category_rises_to_its_next_allowed_code() -> None:
    raised = _one_step_up(_contract(), "grade", np.array([1.0, 2.0, 3.0, np.nan]))
    np.testing.assert_array_equal(raised[:2], [2.0, 3.0])
    assert np.isnan(raised[2:]).all()


def test_without_a_model_or_a_declared_direction_it_says_so() -> None:
    skipped = directional_check(_holdout([1]), None)
    assert (skipped.verdict, skipped.detail) == ("skip", "no model given")
    none_declared = _check(_Scorer(_contract(None), lambda matrix: np.zeros(len(matrix))), _holdout([1]))
    assert (none_declared.verdict, none_declared.detail) == (
        "pass",
        "no feature of the contract declares a monotone direction",
    )


def test_the_gate_runs_it_after_fairness_with_the_candidate_model(
    small_frame: pd.DataFrame, small_model: TrainedModel
) -> None:
    labels = uci().labels(small_frame)
    result = run_gate(
        small_frame,
        labels,
        small_model.predict_proba(small_frame),
        None,
        GateSettings(bootstrap_samples=50),
        contract=uci(),
        threshold=0.5,
        champion_version=None,
        approval_required=False,
        approver=None,
        candidate_model=small_model,
    )
    names = [check.name for check in result.checks]
    assert names.index("directions") == names.index("fairness") + 1
    directions = result.checks[names.index("directions")]
    assert (directions.verdict, directions.detail) == (
        "pass",
        "no feature of the contract declares a monotone direction",
    )


def _two_directed() -> Contract:
    return Contract.model_validate(
        {
            "name": "shop",
            "label": {"column": "bad", "positive": 1},
            "columns": {
                "usage": {"type": "number", "range": [0, 100], "monotone": "increasing"},
                "income": {"type": "number", "range": [0, 100], "monotone": "decreasing"},
                "bad": {"role": "label", "type": "category", "categories": [0, 1]},
            },
        }
    )


def test_the_words_name_every_directed_feature_and_every_failure() -> None:
    contract = _two_directed()
    holdout = pd.DataFrame({"usage": [10.0, 20.0, 30.0], "income": [40.0, 50.0, 60.0], "bad": [0, 1, 0]})
    right = _Scorer(contract, lambda matrix: (matrix[:, 0] - matrix[:, 1] + 100) / 300)
    passed = _check(right, holdout)
    assert passed.detail == "raising usage, income one step never moves the probability the wrong way on 3 holdout rows"
    assert passed.data["usage"] == {"direction": "increasing", "rows": 3, "wrong": 0, "worst": 0.0}
    wrong = _Scorer(contract, lambda matrix: (-matrix[:, 0] + matrix[:, 1] + 100) / 300)
    failed = _check(wrong, holdout)
    assert failed.verdict == "fail"
    assert failed.detail == (
        "usage (increasing): 3 of 3 rows moved the wrong way, worst by 0.00667;"
        " income (decreasing): 3 of 3 rows moved the wrong way, worst by 0.00667"
    )


def test_the_gate_checks_directions_on_the_holdout_it_was_given() -> None:
    contract = _two_directed()
    holdout = pd.DataFrame({"usage": [10.0, 20.0, 30.0, 40.0], "income": [40.0, 50.0, 60.0, 70.0], "bad": [0, 1, 0, 1]})
    scorer = _Scorer(contract, lambda matrix: (matrix[:, 0] - matrix[:, 1] + 100) / 300)
    labels = holdout["bad"].to_numpy()
    probability = scorer.probability(contract.feature_matrix(holdout))
    result = run_gate(
        holdout,
        labels,
        probability,
        None,
        GateSettings(),
        contract=contract,
        threshold=0.5,
        champion_version=None,
        approval_required=False,
        approver=None,
        candidate_model=scorer,  # type: ignore[arg-type]
    )
    directions = next(check for check in result.checks if check.name == "directions")
    assert directions.detail.endswith("on 4 holdout rows")
