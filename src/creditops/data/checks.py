"""Data checks that run before anything trains: the contract's columns, types, codes and ranges, missing
values, labels and IDs."""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np
import pandas as pd
import pandera.pandas as pa
from pandera.errors import SchemaErrors

from creditops.data.contract import Contract
from creditops.errors import DataError

EXAMPLES: Final = 5
"""Failing rows shown per check, with their values: enough to find the pattern, few enough for one line."""


@dataclass(frozen=True)
class CheckFailure:
    """One failing check on one column, with how many rows fail it and up to `EXAMPLES` of them: each as
    (row, value), the row named by the contract's ID column ("ID 17") or else by its number in the data
    ("row 3", the first data row being row 1)."""

    check: str
    column: str
    rows: int
    examples: tuple[tuple[str, str], ...] = ()

    def __str__(self) -> str:
        if self.check == "required_column":
            return f"required_column: '{self.column}' is missing"
        return f"{self.check} on '{self.column}': {self.rows} row(s)" + (
            f", e.g. {self.shown_examples}" if self.examples else ""
        )

    @property
    def shown_examples(self) -> str:
        """'ID 5 = 9, ID 6 = 9': each example row and its offending value."""
        return ", ".join(f"{row} = {value}" for row, value in self.examples)


class DataCheckError(DataError):
    """The data failed its checks; `failures` lists each failing check and column."""

    def __init__(self, failures: tuple[CheckFailure, ...]) -> None:
        self.failures = failures
        listed = "; ".join(str(failure) for failure in failures)
        super().__init__(f"data checks failed ({len(failures)}): {listed}")


@dataclass(frozen=True)
class Part:
    """A partition of larger data, checked by itself (`check_data(part=...)`), and what its checks need to
    know of the whole data. Every check is per row but two: the IDs' uniqueness, which the caller checks
    across partitions (`duplicate_ids`), and the rows of a column that fails integer_type with whole numbers
    only, which depend on whether the whole column holds whole numbers only (`whole`). An empty data set is
    the caller's not_empty."""

    first_row: int = 1
    """The number of the partition's first row in the whole data (1: the first data row)."""
    whole: frozenset[str] = frozenset()
    """The columns that hold a whole number in every row of the whole data."""


def check_data(
    frame: pd.DataFrame, contract: Contract, *, require_label: bool = True, part: Part | None = None
) -> tuple[CheckFailure, ...]:
    """Every failing check of `frame` against `contract`; empty when the data are fit to train on. With
    `part`, `frame` is a partition of larger data: its failures, merged with `merge_failures` and
    `duplicate_ids`, are those of the whole data."""
    if frame.empty:
        return () if part is not None else (CheckFailure("not_empty", "*", 0),)
    unique_ids = part is None
    if _passes_every_check(frame, contract, require_label, unique_ids):
        return ()
    try:
        _schema(contract, require_label, unique_ids).validate(frame, lazy=True)
    except SchemaErrors as errors:
        return _summarise(frame, errors.failure_cases, contract, part)
    return ()


def merge_failures(parts: Iterable[tuple[CheckFailure, ...]]) -> tuple[CheckFailure, ...]:
    """The failures of the whole data from its partitions' (in the data's order): rows added up, the first
    `EXAMPLES` examples kept, ordered by check and column as check_data orders them."""
    merged: dict[tuple[str, str], CheckFailure] = {}
    for failures in parts:
        for failure in failures:
            key = (failure.check, failure.column)
            seen = merged.get(key)
            if seen is not None:
                examples = (seen.examples + failure.examples)[:EXAMPLES]
                failure = CheckFailure(failure.check, failure.column, seen.rows + failure.rows, examples)
            merged[key] = failure
    return tuple(merged[key] for key in sorted(merged))


def duplicate_ids(column: str, rows: int, first_ids: Sequence[object]) -> CheckFailure:
    """The duplicate_ids failure as check_data reports it: `rows` rows share their ID with another row;
    `first_ids` are the IDs of the first of those rows in the data's order."""
    shown = tuple((f"{column} {_shown(value)}", _shown(value)) for value in first_ids[:EXAMPLES])
    return CheckFailure("duplicate_ids", column, rows, shown)


def ensure_valid(frame: pd.DataFrame, contract: Contract, *, require_label: bool = True) -> None:
    """Raise DataCheckError naming each failing check, column and row count."""
    failures = check_data(frame, contract, require_label=require_label)
    if failures:
        raise DataCheckError(failures)


def checked_columns(contract: Contract, require_label: bool) -> tuple[str, ...]:
    """The columns data must hold: ID, features, protected columns (to measure fairness) and the label."""
    kept = ("id", "feature", "protected", *(("label",) if require_label else ()))
    return tuple(name for name, column in contract.columns.items() if column.role in kept)


def _passes_every_check(frame: pd.DataFrame, contract: Contract, require_label: bool, unique_ids: bool = True) -> bool:
    """The same checks as the schema for an all-integer contract (UCI), column by column with a minimum and
    a maximum (and a membership test for a code set with gaps) and a hash for the IDs: no boolean frame per
    check. Data that fail anything, and contracts with other types, go to pandera, which names each failure
    and counts its rows."""
    for name in checked_columns(contract, require_label):
        column = contract.columns[name]
        if column.missing or column.type not in ("integer", "category") or column.text_categories:
            return False
        if name not in frame or frame[name].dtype != "int64":
            return False
        low, high = contract.bounds(name)
        values = frame[name].to_numpy()
        if values.min() < low or values.max() > high:
            return False
        codes = contract.codes(name) if column.type == "category" else ()
        if len(codes) and len(codes) != max(codes) - min(codes) + 1 and not np.isin(values, codes).all():
            return False
    return not unique_ids or contract.id_column is None or bool(frame[contract.id_column].is_unique)


def _schema(contract: Contract, require_label: bool, unique_ids: bool = True) -> pa.DataFrameSchema:
    """The pandera schema of a contract, built once per contract."""
    key = (contract.digest(), require_label, unique_ids)
    if key not in _SCHEMAS:
        _SCHEMAS[key] = _build_schema(contract, require_label, unique_ids)
    return _SCHEMAS[key]


_SCHEMAS: dict[tuple[str, bool, bool], pa.DataFrameSchema] = {}


def _build_schema(contract: Contract, require_label: bool, unique_ids: bool) -> pa.DataFrameSchema:
    columns = {}
    for name in checked_columns(contract, require_label):
        column = contract.columns[name]
        columns[name] = pa.Column(
            "int64" if column.type == "category" and not column.text_categories else _DTYPES.get(column.type),
            _value_checks(contract, name),
            nullable=column.missing,
            unique=unique_ids and column.role == "id",
            coerce=False,
        )
    return pa.DataFrameSchema(columns, strict=False, coerce=False)


_DTYPES = {"integer": "int64", "number": "float64", "boolean": "bool"}


def _value_checks(contract: Contract, name: str) -> list[pa.Check]:
    column = contract.columns[name]
    if column.type == "category":
        categories = list(column.categories or ())
        if column.text_categories:
            allowed = {str(value) for value in categories}
            return [pa.Check(lambda values: values.astype("string").isin(allowed), name=f"isin({categories})")]
        return [pa.Check.isin(categories)]
    if column.type in ("integer", "number") and column.range is not None:
        low, high = column.range
        if low is not None and high is not None:
            return [pa.Check.in_range(low, high)]
        if low is not None:
            return [pa.Check.ge(low)]
        if high is not None:
            return [pa.Check.le(high)]
    if column.type == "date":
        return [pa.Check(_readable_dates, name="date")]
    return []


def _readable_dates(values: pd.Series) -> pd.Series:
    return pd.Series(pd.to_datetime(values, errors="coerce")).notna() | values.isna()


def _summarise(
    frame: pd.DataFrame, cases: pd.DataFrame, contract: Contract, part: Part | None
) -> tuple[CheckFailure, ...]:
    """One CheckFailure per (check, column), counting distinct failing rows.

    A column of the wrong type reports that alone: its value checks would only repeat it.
    """
    cases = cases.assign(
        check=cases["check"].map(_check_name),
        column=cases["column"].fillna(cases["failure_case"]).astype(str),
    )
    label = contract.label_column
    cases.loc[(cases["column"] == label) & (cases["check"] == "allowed_codes"), "check"] = "label_values"
    cases.loc[(cases["column"] == contract.id_column) & (cases["check"] == "value_range"), "check"] = "valid_ids"
    mistyped = set(cases.loc[cases["check"] == "integer_type", "column"])
    failures = []
    for (check, column), group in cases.groupby(["check", "column"], sort=True):
        if check == "integer_type":
            failing = _non_integers(frame[column], None if part is None else column in part.whole)
            rows = int(failing.sum())
            if rows == 0:
                continue
            labels = list(frame.index[failing.to_numpy()][:EXAMPLES])
            values = list(frame[column].to_numpy()[failing.to_numpy()][:EXAMPLES])
        elif column in mistyped and check != "missing_values":
            continue
        else:
            located = group.dropna(subset=["index"]).drop_duplicates("index")
            rows = len(located)
            labels = list(located["index"][:EXAMPLES])
            values = list(located["failure_case"][:EXAMPLES])
        examples = _examples(frame, contract, labels, values, 1 if part is None else part.first_row)
        failures.append(CheckFailure(str(check), str(column), int(rows), examples))
    return tuple(failures)


def _examples(
    frame: pd.DataFrame, contract: Contract, labels: list[object], values: list[object], first_row: int
) -> tuple[tuple[str, str], ...]:
    """(row, value) of each failing row: its ID where the contract has an ID column the data holds, else its
    number in the data (`first_row`: the frame's first row)."""
    if not labels or not frame.index.is_unique:
        return ()
    ids = contract.id_column if contract.id_column in frame else None
    shown = []
    for position, value in zip(frame.index.get_indexer(pd.Index(labels)), values, strict=True):
        if position < 0:
            continue
        row = f"{ids} {_shown(frame[ids].iat[int(position)])}" if ids is not None else f"row {position + first_row}"
        shown.append((row, _shown(value)))
    return tuple(shown)


def _shown(value: object) -> str:
    """A value as a person reads it in the data: a missing one as 'missing', long text cut at 40 characters."""
    if (
        value is None
        or value is pd.NA
        or value is pd.NaT
        or (isinstance(value, float | np.floating) and np.isnan(value))
    ):
        return "missing"
    text = str(value)
    return text if len(text) <= 40 else f"{text[:40]}…"


def _non_integers(values: pd.Series, whole_column: bool | None = None) -> pd.Series:
    """Rows whose value is present but not a whole number; all rows when whole numbers are stored
    as floats without any missing value (a missing value alone is reported as missing_values).
    `whole_column`: whether the whole column (of which `values` is a partition) holds whole numbers only;
    None: `values` is the whole column."""
    numeric = pd.to_numeric(values, errors="coerce")
    present = values.notna()
    whole = numeric.notna() & (numeric % 1 == 0)
    non_integers = present & ~whole
    if whole_column is None:
        whole_column = not non_integers.any() and bool(present.all())
    return present if whole_column else non_integers


def _check_name(raw: object) -> str:
    text = str(raw)
    if text.startswith("dtype("):
        return "integer_type" if "int" in text else "value_type"
    if text.startswith("isin("):
        return "allowed_codes"
    if text.startswith("in_range("):
        return "value_range"
    return {
        "not_nullable": "missing_values",
        "field_uniqueness": "duplicate_ids",
        "column_in_dataframe": "required_column",
    }.get(text, "value_range" if text.startswith(("greater_than_or_equal_to(", "less_than_or_equal_to(")) else text)
