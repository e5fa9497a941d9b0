from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from creditops.data.checks import DataCheckError, check_data, ensure_valid
from creditops.data.contract import uci

if TYPE_CHECKING:
    from creditops.data.contract import Contract
from creditops.data.schema import FEATURES, LABEL


def _drop_age(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.drop(columns=["AGE"])


def _text_in_pay0(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.astype({"PAY_0": object})
    frame.loc[[1, 2], "PAY_0"] = "late"
    return frame


def _fraction_in_limit(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.astype({"LIMIT_BAL": float})
    frame.loc[3, "LIMIT_BAL"] = 1500.5
    return frame


def _education_code_9(frame: pd.DataFrame) -> pd.DataFrame:
    frame.loc[[4, 5, 6], "EDUCATION"] = 9
    return frame


def _negative_payment(frame: pd.DataFrame) -> pd.DataFrame:
    frame.loc[7, "PAY_AMT3"] = -10
    return frame


def _missing_sex(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.astype({"SEX": float})
    frame.loc[[8, 9], "SEX"] = np.nan
    return frame


def _label_2(frame: pd.DataFrame) -> pd.DataFrame:
    frame.loc[10, LABEL] = 2
    return frame


def _duplicate_id(frame: pd.DataFrame) -> pd.DataFrame:
    frame.loc[11, "ID"] = frame.loc[12, "ID"]
    return frame


@pytest.mark.parametrize(
    ("corrupt", "check", "column", "rows"),
    [
        (_drop_age, "required_column", "AGE", 0),
        (_text_in_pay0, "integer_type", "PAY_0", 2),
        (_fraction_in_limit, "integer_type", "LIMIT_BAL", 1),
        (_education_code_9, "allowed_codes", "EDUCATION", 3),
        (_negative_payment, "value_range", "PAY_AMT3", 1),
        (_missing_sex, "missing_values", "SEX", 2),
        (_label_2, "label_values", LABEL, 1),
        (_duplicate_id, "duplicate_ids", "ID", 2),
    ],
)
def test_each_check_fails_on_its_own_bad_case(
    small_frame: pd.DataFrame,
    corrupt: Callable[[pd.DataFrame], pd.DataFrame],
    check: str,
    column: str,
    rows: int,
) -> None:
    failures = check_data(corrupt(small_frame.head(100).copy()), uci())
    assert [(f.check, f.column, f.rows) for f in failures] == [(check, column, rows)]


def test_good_data_passes(small_frame: pd.DataFrame) -> None:
    assert check_data(small_frame, uci()) == ()


def test_empty_data_fails(small_frame: pd.DataFrame) -> None:
    assert check_data(small_frame.head(0), uci())[0].check == "not_empty"


def test_report_names_every_failure(small_frame: pd.DataFrame) -> None:
    frame = _label_2(_education_code_9(small_frame.head(100).copy()))
    with pytest.raises(DataCheckError) as raised:
        ensure_valid(frame, uci())
    message = str(raised.value)
    assert "data checks failed (2)" in message
    assert "allowed_codes on 'EDUCATION': 3 row(s)" in message
    assert f"label_values on '{LABEL}': 1 row(s)" in message


def test_label_may_be_absent_when_not_required(small_frame: pd.DataFrame) -> None:
    assert check_data(small_frame.drop(columns=[LABEL]), uci(), require_label=False) == ()


def _pandera_passes(frame: pd.DataFrame, require_label: bool) -> bool:
    from pandera.errors import SchemaErrors

    from creditops.data.checks import _schema

    try:
        _schema(uci(), require_label).validate(frame, lazy=True)
    except SchemaErrors:
        return False
    return True


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    column=st.sampled_from(["ID", *FEATURES, LABEL]),
    value=st.one_of(st.integers(-20_000_000, 20_000_000), st.integers(-3, 12), st.floats(allow_nan=True)),
    row=st.integers(0, 59),
    require_label=st.booleans(),
)
def test_the_quick_pass_agrees_with_pandera_on_any_one_bad_cell(
    small_frame: pd.DataFrame, column: str, value: float, row: int, require_label: bool
) -> None:
    from creditops.data.checks import _passes_every_check

    frame = small_frame.head(60).copy()
    if isinstance(value, float):
        frame = frame.astype({column: float})
    frame.loc[row, column] = value
    assert _passes_every_check(frame, uci(), require_label) == _pandera_passes(frame, require_label)


def _with_sex_codes(codes: tuple[int, ...]) -> "Contract":
    from creditops.data.contract import Contract

    payload = uci().model_dump(mode="json")
    payload["columns"]["SEX"]["categories"] = list(codes)
    payload["slices"]["SEX"] = {"one": [codes[0]]}
    return Contract.model_validate(payload)


@pytest.mark.parametrize("codes", [(1, 2), (1, 3, 7)], ids=["contiguous", "with-gaps"])
def test_the_quick_pass_tests_membership_of_a_code_set_with_gaps(
    small_frame: pd.DataFrame, codes: tuple[int, ...]
) -> None:
    from creditops.data import checks

    contract = _with_sex_codes(codes)
    frame = small_frame.head(30).assign(SEX=2)
    assert checks._passes_every_check(frame, contract, True) == (2 in codes)
    assert checks._passes_every_check(frame.drop(columns=["AGE"]), contract, True) is False
    assert checks._passes_every_check(frame.assign(ID=1), contract, True) is False


def test_each_failure_shows_up_to_five_rows_by_id_with_their_values(small_frame: pd.DataFrame) -> None:
    # Given EDUCATION code 9 in three rows and a negative PAY_AMT3 in eight
    frame = _education_code_9(small_frame.head(100).copy())
    frame.loc[20:27, "PAY_AMT3"] = -10
    frame.loc[22, "PAY_AMT3"] = -7
    failures = {failure.column: failure for failure in check_data(frame, uci())}
    # Then each failure names its rows by the contract's ID column, with the offending value
    ids = frame["ID"]
    assert failures["EDUCATION"].examples == tuple((f"ID {ids[row]}", "9") for row in (4, 5, 6))
    payments = failures["PAY_AMT3"]
    assert payments.rows == 8
    assert payments.examples == tuple((f"ID {ids[row]}", "-7" if row == 22 else "-10") for row in range(20, 25))
    assert f"value_range on 'PAY_AMT3': 8 row(s), e.g. ID {ids[20]} = -10, ID {ids[21]} = -10" in str(payments)


def test_without_an_id_column_rows_are_named_by_their_number(small_frame: pd.DataFrame) -> None:
    # Given data without its ID column, code 9 in the 5th to 7th data rows and SEX missing in the 9th
    frame = _missing_sex(_education_code_9(small_frame.head(100).copy())).drop(columns=["ID"])
    failures = {failure.column: failure for failure in check_data(frame, uci())}
    assert failures["EDUCATION"].examples == (("row 5", "9"), ("row 6", "9"), ("row 7", "9"))
    assert failures["SEX"].examples == (("row 9", "missing"), ("row 10", "missing"))
    assert failures["ID"].examples == ()  # a missing column has no rows to show


def test_a_mistyped_column_shows_the_values_that_are_not_whole_numbers(small_frame: pd.DataFrame) -> None:
    frame = _text_in_pay0(small_frame.head(100).copy())
    (failure,) = check_data(frame, uci())
    assert failure.examples == ((f"ID {frame['ID'][1]}", "late"), (f"ID {frame['ID'][2]}", "late"))
