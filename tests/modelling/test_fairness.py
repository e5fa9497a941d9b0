"""Fairness figures on data small enough to compute by hand, and the properties that hold for any data."""

import json
import random as random_module
from collections.abc import Sequence

import numpy as np
import pandas as pd
import pytest
from fairlearn.metrics import equalized_odds_difference  # type: ignore[import-untyped]
from hypothesis import given, settings
from hypothesis import strategies as st

from creditops.data.contract import uci
from creditops.data.schema import LABEL
from creditops.modelling.fairness import (
    ColumnFairness,
    Gap,
    GroupRates,
    column_fairness,
    difference_meets,
    fairness_report,
    protected_groups,
    ratio_meets,
)

# Group a: defaulters at 0.9 (declined) and 0.2 (approved), good payers at 0.6 (declined) and 0.1.
# Group b: its defaulter at 0.7 (declined), good payers all approved.
LABELS = np.array([1, 1, 0, 0, 1, 0, 0, 0])
PROBABILITY = np.array([0.9, 0.2, 0.6, 0.1, 0.7, 0.3, 0.2, 0.1])
GROUPS = pd.Series(["a"] * 4 + ["b"] * 4)


def _column(
    labels: np.ndarray,
    probability: np.ndarray,
    groups: pd.Series | Sequence[object] | np.ndarray,
    min_rows: int = 4,
    threshold: float = 0.5,
) -> ColumnFairness:
    return fairness_report(labels, probability, threshold, {"X": pd.Series(groups)}, min_rows=min_rows).columns[0]


def test_a_small_case_computed_by_hand() -> None:
    column = _column(LABELS, PROBABILITY, GROUPS)
    assert column.groups == (
        GroupRates(
            "a", rows=4, defaults=2, approval_rate=0.5, true_positive_rate=0.5, false_positive_rate=0.5, judged=True
        ),
        GroupRates(
            "b", rows=4, defaults=1, approval_rate=0.75, true_positive_rate=1.0, false_positive_rate=0.0, judged=True
        ),
    )
    assert column.adverse_impact_ratio == pytest.approx(0.5 / 0.75)
    assert column.approval_gap == Gap("a", 0.5, "b", 0.75)
    assert column.equalized_odds_difference == pytest.approx(0.5)  # TPR 0.5 vs 1.0 and FPR 0.5 vs 0.0
    assert column.odds_rate == "TPR"  # a tie goes to the true positive rate
    assert column.missing == 0
    assert column.equalized_odds_difference == pytest.approx(
        equalized_odds_difference(LABELS, (PROBABILITY >= 0.5).astype(int), sensitive_features=GROUPS)
    )


def test_a_probability_at_the_threshold_is_declined() -> None:
    at = _column(LABELS, np.where(PROBABILITY == 0.3, 0.5, PROBABILITY), GROUPS)  # b's 0.3 moves onto 0.5
    assert at.groups[1].approval_rate == 0.5
    assert at.groups[1].false_positive_rate == pytest.approx(1 / 3)
    below = _column(LABELS, np.where(PROBABILITY == 0.3, np.nextafter(0.5, 0), PROBABILITY), GROUPS)
    assert below.groups[1].approval_rate == 0.75


def test_the_larger_gap_names_the_rate_and_its_groups() -> None:
    labels = np.array([1, 0, 0, 0, 1, 0, 0, 0])
    probability = np.array([0.9, 0.9, 0.9, 0.1, 0.9, 0.1, 0.1, 0.1])  # same TPR; FPR 2/3 vs 0
    column = _column(labels, probability, GROUPS)
    assert (column.odds_rate, column.odds_gap) == ("FPR", Gap("b", 0.0, "a", 2 / 3))
    assert column.equalized_odds_difference == pytest.approx(2 / 3)


def test_groups_below_the_minimum_rows_or_without_both_outcomes_are_reported_not_judged() -> None:
    # c: 3 rows, never approved; d: 5 rows, no defaulter; both would change the figures if judged
    labels = np.concatenate([LABELS, [1, 0, 0], [0] * 5])
    probability = np.concatenate([PROBABILITY, [0.9] * 3, [0.9] * 5])
    groups = [*GROUPS, "c", "c", "c", *["d"] * 5]
    column = _column(labels, probability, groups)
    assert [(rates.group, rates.rows, rates.judged) for rates in column.groups] == [
        ("a", 4, True),
        ("b", 4, True),
        ("c", 3, False),
        ("d", 5, False),
    ]
    assert column.groups[2].approval_rate == 0.0
    assert column.groups[3].true_positive_rate is None  # no defaulter: undefined, not 0
    assert column.groups[3].false_positive_rate == 1.0
    assert column.adverse_impact_ratio == pytest.approx(0.5 / 0.75)
    assert column.equalized_odds_difference == pytest.approx(0.5)
    judged_at_three = _column(labels, probability, groups, min_rows=3)
    assert judged_at_three.adverse_impact_ratio == 0.0  # c, now judged, is never approved


def test_fewer_than_two_judged_groups_leave_nothing_to_compare() -> None:
    column = _column(LABELS, PROBABILITY, GROUPS, min_rows=5)
    assert [rates.judged for rates in column.groups] == [False, False]
    assert not column.judged
    assert (column.adverse_impact_ratio, column.equalized_odds_difference, column.odds_gap) == (None, None, None)


def test_rows_whose_group_is_missing_are_left_out() -> None:
    labels = np.concatenate([LABELS, [1, 0, 1]])
    probability = np.concatenate([PROBABILITY, [0.1, 0.9, 0.1]])
    groups = pd.Series([*GROUPS, pd.NA, None, np.nan], dtype="object")
    column = _column(labels, probability, groups)
    assert column.missing == 3
    assert column.groups == _column(LABELS, PROBABILITY, GROUPS).groups
    empty = _column(labels[-3:], probability[-3:], groups.iloc[-3:].reset_index(drop=True))
    assert (empty.groups, empty.missing, empty.adverse_impact_ratio) == ((), 3, None)


def test_nobody_approved_anywhere_is_equal_treatment() -> None:
    column = _column(LABELS, np.ones(8), GROUPS)
    assert column.adverse_impact_ratio == 1.0


def test_the_report_is_json_ready_and_keeps_the_column_order() -> None:
    groups = {"Z": GROUPS, "A": GROUPS.map({"a": "x", "b": "y"})}
    report = fairness_report(LABELS, PROBABILITY, 0.5, groups, min_rows=4)
    recorded = json.loads(json.dumps(report.as_dict()))
    assert list(recorded["columns"]) == ["Z", "A"]
    assert recorded["threshold"] == 0.5
    assert recorded["min_group_rows"] == 4
    assert recorded["columns"]["A"]["groups"][0] == {
        "group": "x",
        "rows": 4,
        "defaults": 2,
        "approval_rate": 0.5,
        "true_positive_rate": 0.5,
        "false_positive_rate": 0.5,
        "judged": True,
    }
    assert recorded["columns"]["A"]["approval_gap"] == {"low_group": "x", "low": 0.5, "high_group": "y", "high": 0.75}


def test_mismatched_lengths_are_refused() -> None:
    with pytest.raises(ValueError, match="X: 7 groups and 8 decisions for 8 labels"):
        column_fairness(LABELS, PROBABILITY >= 0.5, "X", GROUPS.iloc[:7], min_rows=1)


@pytest.mark.parametrize(
    ("value", "limit", "ratio", "difference"),
    [
        (0.8, 0.8, True, True),
        (0.04 / 0.05, 0.8, True, True),  # 4/5 as the division gives it: 0.7999999999999999
        (0.79, 0.8, False, True),
        (0.28 - 0.18, 0.1, True, True),  # 0.1 as the subtraction gives it: 0.10000000000000003
        (0.11, 0.1, True, False),
        (None, 0.5, None, None),
    ],
)
def test_a_limit_the_counts_meet_exactly_is_met(
    value: float | None, limit: float, ratio: bool | None, difference: bool | None
) -> None:
    assert ratio_meets(value, limit) is ratio
    assert difference_meets(value, limit) is difference


def test_protected_groups_follow_the_contract() -> None:
    frame = pd.DataFrame(
        {
            "SEX": [2, 1, 2],
            "MARRIAGE": [0, 2, 1],
            "AGE": [55, np.nan, 22],
            LABEL: [0, 1, 0],
        }
    )
    groups = protected_groups(uci(), frame)
    assert list(groups) == ["SEX", "MARRIAGE", "AGE"]
    assert groups["MARRIAGE"].tolist() == ["other", "single", "married"]
    assert list(groups["AGE"].cat.categories) == ["21-29", "30-39", "40-49", "50+"]
    assert groups["AGE"].isna().tolist() == [False, True, False]
    assert list(protected_groups(uci(), frame.drop(columns="AGE"))) == ["SEX", "MARRIAGE"]
    labels, probability = np.array([0, 1, 0]), np.array([0.1, 0.9, 0.2])
    report = fairness_report(labels, probability, 0.5, groups, min_rows=1)
    assert [rates.group for rates in report.columns[0].groups] == ["male", "female"]  # the contract's order


_GROUP_ROWS = st.lists(st.tuples(st.integers(0, 1), st.floats(0, 1)), min_size=1, max_size=25)


@settings(max_examples=40, deadline=None)
@given(st.lists(_GROUP_ROWS, min_size=2, max_size=4), st.floats(0.05, 0.95))
def test_the_ratio_and_the_difference_are_between_zero_and_one(
    groups: list[list[tuple[int, float]]], threshold: float
) -> None:
    rows = [(label, probability, str(number)) for number, group in enumerate(groups) for label, probability in group]
    labels, probability, names = (np.array(values) for values in zip(*rows, strict=True))
    column = _column(labels, probability, names, min_rows=1, threshold=threshold)
    assert sum(rates.rows for rates in column.groups) == len(rows)
    ratio, difference = column.adverse_impact_ratio, column.equalized_odds_difference
    assert (ratio is None) is (difference is None) is (not column.judged)
    assert ratio is None or 0 <= ratio <= 1
    assert difference is None or 0 <= difference <= 1


@settings(max_examples=40, deadline=None)
@given(
    st.integers(2, 6).flatmap(lambda size: st.tuples(st.just(size), st.integers(0, size))),
    st.lists(st.integers(1, 5), min_size=2, max_size=4),
    st.randoms(use_true_random=False),
)
def test_equal_approval_rates_give_a_ratio_of_one(
    rate: tuple[int, int], multiples: list[int], random: random_module.Random
) -> None:
    size, approved = rate
    labels: list[int] = []
    probability: list[float] = []
    names: list[str] = []
    for number, multiple in enumerate(multiples):  # each group approves `approved` of every `size` rows
        rows = size * multiple
        scores = [0.1] * (approved * multiple) + [0.9] * (rows - approved * multiple)
        random.shuffle(scores)
        labels += [1, 0, *(random.randint(0, 1) for _ in range(rows - 2))]  # both outcomes in every group
        probability += scores
        names += [f"g{number}"] * rows
    column = _column(np.array(labels), np.array(probability), names, min_rows=1)
    assert column.adverse_impact_ratio == 1.0
    assert all(ratio_meets(column.adverse_impact_ratio, limit) for limit in (0.8, 1.0))
