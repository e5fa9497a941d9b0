"""Request validation at every bound and every code set: the lowest and highest allowed values pass,
one step beyond fails, naming the column."""

import pytest

from creditops.data.schema import CATEGORICAL_CODES, FEATURES, NUMERIC_RANGES
from creditops.serving.errors import RequestError
from creditops.serving.requests import parse_request

from ..sample_requests import VALID_ROW


def _with(column: str, value: float) -> bytes:
    row: list[float] = list(VALID_ROW)
    row[FEATURES.index(column)] = value
    import orjson

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
    assert parse_request(_with(column, value), max_rows=1).features.shape == (1, 23)


@pytest.mark.parametrize(("column", "value"), OUTSIDE)
def test_one_step_beyond_fails_naming_the_column(column: str, value: float) -> None:
    with pytest.raises(RequestError) as raised:
        parse_request(_with(column, value), max_rows=1)
    assert raised.value.status == 422
    assert raised.value.message.startswith(f"column '{column}' row 0: ")


@pytest.mark.parametrize(("rows", "status"), [(3, 200), (4, 413)])
def test_the_row_limit_is_inclusive(rows: int, status: int) -> None:
    import orjson

    body = orjson.dumps({"instances": [VALID_ROW] * rows})
    try:
        parse_request(body, max_rows=3)
        answered = 200
    except RequestError as error:
        answered = error.status
    assert answered == status


@pytest.mark.parametrize(
    ("column", "value", "reason"),
    [
        ("SEX", 3.0, "SEX: 3 is not an allowed code (1..2)"),
        ("PAY_0", 1.5, "PAY_0: 1.5 is not an allowed code (-2..9)"),
        ("AGE", float("nan"), "AGE: nan is not a finite number"),
        ("LIMIT_BAL", 0.0, "LIMIT_BAL: 0 is outside 1..10000000"),
    ],
)
def test_large_batches_find_the_same_problems_column_by_column(column: str, value: float, reason: str) -> None:
    import numpy as np

    from creditops.serving.validation import row_problems

    batch = np.tile(np.array(VALID_ROW, dtype=np.float64), (5_000, 1))
    assert row_problems(batch) == {}
    batch[4_321, FEATURES.index(column)] = value
    assert row_problems(batch) == {4_321: [reason]}
    assert row_problems(batch[4_000:]) == {321: [reason]}  # the same below the large-batch size


def test_the_column_by_column_check_accepts_a_batch_at_its_bounds_and_refuses_any_stray_value() -> None:
    import numpy as np

    from creditops.data.schema import feature_bounds
    from creditops.serving.validation import _all_valid_by_column

    low = np.array([feature_bounds(name)[0] for name in FEATURES], dtype=np.float64)
    high = np.array([feature_bounds(name)[1] for name in FEATURES], dtype=np.float64)
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
