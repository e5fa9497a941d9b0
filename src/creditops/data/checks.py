"""Data checks that run before anything trains: schema, codes and ranges, missing values, labels, IDs."""

from dataclasses import dataclass
from functools import cache

import numpy as np
import pandas as pd
import pandera.pandas as pa
from pandera.errors import SchemaErrors

from creditops.data.schema import (
    CATEGORICAL_CODES,
    FEATURES,
    ID_COLUMN,
    LABEL,
    LABEL_VALUES,
    NUMERIC_RANGES,
    feature_bounds,
)
from creditops.errors import DataError


@dataclass(frozen=True)
class CheckFailure:
    """One failing check on one column, with how many rows fail it."""

    check: str
    column: str
    rows: int

    def __str__(self) -> str:
        if self.check == "required_column":
            return f"required_column: '{self.column}' is missing"
        return f"{self.check} on '{self.column}': {self.rows} row(s)"


class DataCheckError(DataError):
    """The data failed its checks; `failures` lists each failing check and column."""

    def __init__(self, failures: tuple[CheckFailure, ...]) -> None:
        self.failures = failures
        listed = "; ".join(str(failure) for failure in failures)
        super().__init__(f"data checks failed ({len(failures)}): {listed}")


def check_data(frame: pd.DataFrame, *, require_label: bool = True) -> tuple[CheckFailure, ...]:
    """Every failing check of `frame` against the UCI schema; empty when the data are fit to train on."""
    if frame.empty:
        return (CheckFailure("not_empty", "*", 0),)
    if _passes_every_check(frame, require_label):
        return ()
    try:
        _schema(require_label).validate(frame, lazy=True)
    except SchemaErrors as errors:
        return _summarise(frame, errors.failure_cases)
    return ()


def ensure_valid(frame: pd.DataFrame, *, require_label: bool = True) -> None:
    """Raise DataCheckError naming each failing check, column and row count."""
    failures = check_data(frame, require_label=require_label)
    if failures:
        raise DataCheckError(failures)


def _passes_every_check(frame: pd.DataFrame, require_label: bool) -> bool:
    """The same checks as the schema, column by column with a minimum and a maximum (and a membership test
    for a code set with gaps) and a hash for the IDs: no boolean frame per check. Data that fail anything
    go to pandera, which names each failure and counts its rows."""
    bounds = {ID_COLUMN: (1, None), **{feature: feature_bounds(feature) for feature in FEATURES}}
    if require_label:
        bounds[LABEL] = (min(LABEL_VALUES), max(LABEL_VALUES))
    for column, (low, high) in bounds.items():
        if column not in frame or frame[column].dtype != "int64":
            return False
        values = frame[column].to_numpy()
        if values.min() < low or (high is not None and values.max() > high):
            return False
        codes = CATEGORICAL_CODES.get(column, ())
        if len(codes) and len(codes) != max(codes) - min(codes) + 1 and not np.isin(values, codes).all():
            return False
    return bool(frame[ID_COLUMN].is_unique)


@cache
def _schema(require_label: bool) -> pa.DataFrameSchema:
    columns = {ID_COLUMN: pa.Column("int64", pa.Check.ge(1), unique=True, nullable=False)}
    for feature in FEATURES:
        columns[feature] = pa.Column("int64", _value_check(feature), nullable=False)
    if require_label:
        columns[LABEL] = pa.Column("int64", pa.Check.isin(LABEL_VALUES), nullable=False)
    return pa.DataFrameSchema(columns, strict=False, coerce=False)


def _value_check(feature: str) -> pa.Check:
    if feature in CATEGORICAL_CODES:
        return pa.Check.isin(CATEGORICAL_CODES[feature])
    low, high = NUMERIC_RANGES[feature]
    return pa.Check.in_range(low, high)


def _summarise(frame: pd.DataFrame, cases: pd.DataFrame) -> tuple[CheckFailure, ...]:
    """One CheckFailure per (check, column), counting distinct failing rows.

    A column of the wrong type reports that alone: its value checks would only repeat it.
    """
    cases = cases.assign(
        check=cases["check"].map(_check_name),
        column=cases["column"].fillna(cases["failure_case"]).astype(str),
    )
    mistyped = set(cases.loc[cases["check"] == "integer_type", "column"])
    failures = []
    for (check, column), group in cases.groupby(["check", "column"], sort=True):
        if check == "integer_type":
            rows = _count_non_integers(frame[column])
            if rows == 0:
                continue
        elif column in mistyped and check != "missing_values":
            continue
        else:
            rows = group["index"].dropna().nunique()
        failures.append(CheckFailure(str(check), str(column), int(rows)))
    return tuple(failures)


def _count_non_integers(values: pd.Series) -> int:
    """Rows whose value is present but not a whole number; all rows when whole numbers are stored
    as floats without any missing value (a missing value alone is reported as missing_values)."""
    numeric = pd.to_numeric(values, errors="coerce")
    present = values.notna()
    whole = numeric.notna() & (numeric % 1 == 0)
    non_integers = int((present & ~whole).sum())
    if non_integers or not present.all():
        return non_integers
    return int(present.sum())


def _check_name(raw: object) -> str:
    text = str(raw)
    if text.startswith("dtype("):
        return "integer_type"
    if text.startswith("isin((0, 1))"):
        return "label_values"
    if text.startswith("isin("):
        return "allowed_codes"
    if text.startswith("in_range("):
        return "value_range"
    return {
        "not_nullable": "missing_values",
        "field_uniqueness": "duplicate_ids",
        "column_in_dataframe": "required_column",
        "greater_than_or_equal_to(1)": "valid_ids",
    }.get(text, text)
