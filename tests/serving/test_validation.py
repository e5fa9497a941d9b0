"""Request validation at every bound and every code set: the lowest and highest allowed values pass,
one step beyond fails, naming the column."""

import numpy as np
import orjson
import pytest

from creditops.data.contract import Contract, uci
from creditops.serving.errors import RequestError
from creditops.serving.requests import parse_request
from creditops.serving.validation import ValueRules

from ..sample_requests import VALID_ROW

UCI = uci()
FEATURES = UCI.request_columns
CATEGORICAL_CODES = {
    name: UCI.columns[name].categories or [] for name in FEATURES if UCI.columns[name].type == "category"
}
NUMERIC_RANGES = {name: UCI.bounds(name) for name in FEATURES if name not in CATEGORICAL_CODES}
RULES = ValueRules(UCI, FEATURES)


def _with(column: str, value: float) -> bytes:
    row: list[float] = list(VALID_ROW)
    row[FEATURES.index(column)] = value
    return orjson.dumps({"dataframe_split": {"columns": list(FEATURES), "data": [row]}})


INSIDE = [(c, v) for c, (low, high) in NUMERIC_RANGES.items() for v in (low, high)] + [
    (c, code) for c, codes in CATEGORICAL_CODES.items() for code in codes
]
OUTSIDE = (
    [(c, low - 1) for c, (low, high) in NUMERIC_RANGES.items()]
    + [(c, high + 1) for c, (low, high) in NUMERIC_RANGES.items()]
    + [(c, min(codes) - 1) for c, codes in CATEGORICAL_CODES.items()]
    + [(c, max(codes) + 1) for c, codes in CATEGORICAL_CODES.items()]
    + [(c, min(codes) + 0.5) for c, codes in CATEGORICAL_CODES.items()]
)


@pytest.mark.parametrize(("column", "value"), INSIDE)
def test_each_bound_and_each_code_passes(column: str, value: float) -> None:
    parsed = parse_request(_with(column, value), UCI, max_rows=1)
    assert parsed.columns.shape == (1, 23)
    assert parsed.features.shape == (1, 20)


@pytest.mark.parametrize(("column", "value"), OUTSIDE)
def test_one_step_beyond_fails_naming_the_column(column: str, value: float) -> None:
    with pytest.raises(RequestError) as raised:
        parse_request(_with(column, value), UCI, max_rows=1)
    assert raised.value.status == 422
    assert raised.value.message.startswith(f"column '{column}' row 0: ")


@pytest.mark.parametrize(("rows", "status"), [(3, 200), (4, 413)])
def test_the_row_limit_is_inclusive(rows: int, status: int) -> None:
    body = orjson.dumps({"instances": [VALID_ROW] * rows})
    try:
        parse_request(body, UCI, max_rows=3)
        answered = 200
    except RequestError as error:
        answered = error.status
    assert answered == status


@pytest.mark.parametrize(
    ("column", "value", "reason"),
    [
        ("SEX", 3.0, "SEX: 3 is not an allowed code (1..2)"),
        ("PAY_0", 1.5, "PAY_0: 1.5 is not an allowed code (-2..9)"),
        ("AGE", float("nan"), "AGE: empty or not a number"),
        ("LIMIT_BAL", 0.0, "LIMIT_BAL: 0 is outside 1..10000000"),
    ],
)
def test_large_batches_find_the_same_problems_column_by_column(column: str, value: float, reason: str) -> None:
    row_problems = RULES.row_problems
    batch = np.tile(np.array(VALID_ROW, dtype=np.float64), (5_000, 1))
    assert row_problems(batch) == {}
    batch[4_321, FEATURES.index(column)] = value
    assert row_problems(batch) == {4_321: [reason]}
    assert row_problems(batch[4_000:]) == {321: [reason]}  # the same below the large-batch size


def test_the_column_by_column_check_accepts_a_batch_at_its_bounds_and_refuses_any_stray_value() -> None:
    _all_valid_by_column = RULES._all_valid_by_column
    low, high = RULES.low, RULES.high
    batch = np.vstack([low, high, np.array(VALID_ROW, dtype=np.float64)])
    assert _all_valid_by_column(batch)  # every column reaches both of its bounds
    for position in range(len(FEATURES)):
        for stray in (low[position] - 1, high[position] + 1):
            bad = batch.copy()
            bad[2, position] = stray
            assert not _all_valid_by_column(bad)
    fractional = batch.copy()
    fractional[2, FEATURES.index("PAY_0")] = 0.5
    assert not _all_valid_by_column(fractional)


def _shop(**changes: object) -> Contract:
    """A portfolio with a text category, codes with gaps, a column that may be missing and an open range."""
    columns = {
        "purpose": {"type": "category", "categories": ["car", "boat", "house"]},
        "grade": {"type": "category", "categories": [1, 3, 7]},
        "income": {"type": "number", "range": [0, None], "missing": True},
        "owner": {"type": "boolean"},
        "bad": {"role": "label", "type": "category", "categories": ["no", "yes"]},
    }
    return Contract.model_validate(
        {"name": "shop", "label": {"column": "bad", "positive": "yes"}, "columns": columns, **changes}
    )


@pytest.mark.parametrize(
    ("row", "problem"),
    [
        ([0.0, 1.0, 10.0, 1.0], None),
        ([2.0, 7.0, float("nan"), 0.0], None),  # income may be missing
        ([0.0, 2.0, 10.0, 1.0], "grade: 2 is not an allowed code (1, 3, 7)"),  # within 1..7, not a code
        ([0.0, 3.5, 10.0, 1.0], "grade: 3.5 is not an allowed code (1, 3, 7)"),
        ([-1.0, 1.0, 10.0, 1.0], "purpose: not one of the allowed categories (car, boat, house)"),
        ([3.0, 1.0, 10.0, 1.0], "purpose: not one of the allowed categories (car, boat, house)"),
        ([0.0, 1.0, -0.5, 1.0], "income: -0.5 is outside 0.."),
        ([0.0, 1.0, 10.0, 0.5], "owner: 0.5 is not a whole number"),
        ([0.0, 1.0, 10.0, 2.0], "owner: 2 is outside 0..1"),
        ([0.0, 1.0, float("inf"), 1.0], "income: inf is not a finite number"),
    ],
)
def test_a_contract_with_gaps_text_and_missing_values_is_checked_cell_by_cell(
    row: list[float], problem: str | None
) -> None:
    contract = _shop()
    rules = ValueRules(contract, contract.request_columns)
    values = np.array([row])
    assert rules.row_problems(values) == ({} if problem is None else {0: [problem]})
    large = np.tile(np.array([[1.0, 3.0, 5.0, 0.0]]), (5_000, 1))
    large[4_444] = row
    assert rules.row_problems(large) == ({} if problem is None else {4_444: [problem]})
    if problem is None:
        rules.check(values)
    else:
        with pytest.raises(RequestError, match=f"column '{problem.split(':')[0]}' row 0: "):
            rules.check(values)


def test_flag_keeps_bad_codes_as_warnings_but_refuses_what_no_model_can_score() -> None:
    contract = _shop()
    rules = ValueRules(contract, contract.request_columns)
    assert rules.flag(np.array([[0.0, 2.0, float("nan"), 1.0]])) == {0: ["grade: 2 is not an allowed code (1, 3, 7)"]}
    assert rules.flag(np.array([[0.0, 1.0, 1.0, 1.0]])) is None
    with pytest.raises(RequestError, match="column 'income' row 0: inf is not a finite number"):
        rules.flag(np.array([[0.0, 1.0, float("inf"), 1.0]]))
    strict = ValueRules(UCI, FEATURES)
    nan_row = np.array([VALID_ROW], dtype=np.float64)
    nan_row[0, 4] = np.nan
    with pytest.raises(RequestError, match="column 'AGE' row 0: empty or not a number"):
        strict.flag(nan_row)


def test_a_long_list_of_text_categories_is_cut_in_the_message() -> None:
    categories = [f"c{number}" for number in range(15)]
    contract = _shop(
        columns={
            "kind": {"type": "category", "categories": categories},
            "bad": {"role": "label", "type": "category", "categories": ["no", "yes"]},
        }
    )
    rules = ValueRules(contract, ("kind",))
    assert rules.row_problems(np.array([[-1.0]])) == {
        0: ["kind: not one of the allowed categories (c0, c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11 …)"]
    }


def test_only_code_sets_with_gaps_pay_for_a_membership_test() -> None:
    assert ValueRules(UCI, FEATURES).gaps == {}  # every UCI code set is contiguous: bounds suffice
    contiguous = _shop(
        columns={
            "grade": {"type": "category", "categories": [1, 2, 3]},
            "bad": {"role": "label", "type": "category", "categories": ["no", "yes"]},
        }
    )
    assert ValueRules(contiguous, ("grade",)).gaps == {}
    assert list(ValueRules(_shop(), _shop().request_columns).gaps) == [1]


def test_a_contract_without_whole_numbers_is_checked_too() -> None:
    contract = _shop(
        columns={
            "income": {"type": "number", "range": [0, 10]},
            "bad": {"role": "label", "type": "category", "categories": ["no", "yes"]},
        }
    )
    rules = ValueRules(contract, ("income",))
    assert rules.row_problems(np.array([[2.5], [11.0]])) == {1: ["income: 11 is outside 0..10"]}
    assert rules.row_problems(np.tile([[2.5]], (5_000, 1))) == {}
