"""Scoring requests (Azure ML `input_data` and MLflow's formats) → one validated feature matrix.

Columns may be feature names or 0-based positions in the training column order. Every problem is a
RequestError with the HTTP status to answer and a message naming the column and row. Validation is
vectorised: one numpy conversion and one bounds check for the whole batch.
"""

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Final

import numpy as np
import orjson

from creditops.data.schema import CATEGORICAL_CODES, FEATURES, feature_bounds

SAMPLE_REQUEST: Final = Path(__file__).parent / "sample_request.json"
"""The smoke request creditops ships: the original's shape and first row, with a valid second row."""
FORMATS: Final = ("input_data", "dataframe_split", "dataframe_records", "instances", "inputs")
_POSITION: Final = {name: position for position, name in enumerate(FEATURES)}
_LOW: Final = np.array([feature_bounds(name)[0] for name in FEATURES], dtype=np.float64)
_HIGH: Final = np.array([feature_bounds(name)[1] for name in FEATURES], dtype=np.float64)
_CODE_COLUMNS: Final = np.array([p for p, name in enumerate(FEATURES) if name in CATEGORICAL_CODES])


class RequestError(Exception):
    """A request the service refuses: `status` is the HTTP status, the message says why."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class ScoringRequest:
    """Validated features in training column order, and the caller's row index."""

    features: np.ndarray
    index: list[Any]


def parse_request(body: bytes, *, max_rows: int) -> ScoringRequest:
    """Parse and validate a JSON scoring request body."""
    payload = _load_json(body)
    columns, rows, index = _table(payload)
    if not rows:
        raise RequestError(422, "empty batch: send at least one row")
    if len(rows) > max_rows:
        raise RequestError(413, f"{len(rows)} rows is more than the maximum of {max_rows} per request")
    order = _column_order(columns)
    values = _matrix(rows, columns)
    features = values[:, order] if order is not None else values
    _check_values(features)
    if index is None:
        index = list(range(len(rows)))
    elif len(index) != len(rows):
        raise RequestError(422, f"index has {len(index)} entries for {len(rows)} rows")
    return ScoringRequest(features, index)


def _load_json(body: bytes) -> Any:
    """orjson first; strict JSON has no NaN or Infinity, so a body orjson refuses is read again by
    the standard library, which accepts them, to answer 422 'not a finite number' rather than 400."""
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as error:
        try:
            return json.loads(body)
        except ValueError:
            raise RequestError(400, f"malformed JSON: {error}") from error


def _table(payload: Any) -> tuple[list[Any] | None, list[Any], list[Any] | None]:
    """(columns or None for positional rows, rows, index or None) from any supported format."""
    if not isinstance(payload, dict):
        raise RequestError(422, f"the request must be a JSON object with one of: {', '.join(FORMATS)}")
    present = [key for key in FORMATS if key in payload]
    if len(present) != 1:
        found = ", ".join(sorted(map(str, payload))) or "no keys"
        raise RequestError(422, f"expected exactly one of {', '.join(FORMATS)}; found {found}")
    key = present[0]
    content = payload[key]
    if key in ("input_data", "dataframe_split") and isinstance(content, dict):
        return _split(key, content)
    if key == "dataframe_records" or (isinstance(content, list) and content and isinstance(content[0], dict)):
        return _records(key, content)
    if key == "inputs" and isinstance(content, dict):
        return _column_mapping(content)
    if isinstance(content, list):
        return None, content, None
    raise RequestError(422, f"'{key}' must hold a list of rows or an object with columns and data")


def _split(key: str, content: dict[str, Any]) -> tuple[list[Any], list[Any], list[Any] | None]:
    columns, data, index = content.get("columns"), content.get("data"), content.get("index")
    if not isinstance(columns, list) or not isinstance(data, list):
        raise RequestError(422, f"'{key}' needs 'columns' and 'data' lists")
    if index is not None and not isinstance(index, list):
        raise RequestError(422, f"'{key}.index' must be a list")
    return columns, data, index


def _records(key: str, content: Any) -> tuple[list[Any], list[Any], None]:
    if not isinstance(content, list):
        raise RequestError(422, f"'{key}' must be a list of objects")
    if not content:
        return [], [], None
    columns = list(content[0]) if isinstance(content[0], dict) else []
    rows = []
    for number, record in enumerate(content):
        if not isinstance(record, dict):
            raise RequestError(422, f"row {number}: expected an object of column values")
        if list(record) != columns and set(record) != set(columns):
            raise RequestError(422, f"row {number}: its columns differ from row 0's")
        rows.append([record[column] for column in columns])
    return columns, rows, None


def _column_mapping(content: dict[str, Any]) -> tuple[list[Any], list[Any], None]:
    columns = list(content)
    series = [content[column] for column in columns]
    if not all(isinstance(values, list) for values in series):
        raise RequestError(422, "'inputs' as an object must map each column to a list of values")
    lengths = {len(values) for values in series}
    if len(lengths) > 1:
        raise RequestError(422, "'inputs' columns have different lengths")
    return columns, [list(row) for row in zip(*series, strict=True)], None


def _column_order(columns: list[Any] | None) -> list[int] | None:
    """Positions that put the request's columns in training order; None when already in order."""
    if columns is None:
        return None
    try:
        return _cached_column_order(tuple(columns))
    except TypeError:  # an unhashable column name: let the uncached path name it
        return _resolve_column_order(tuple(columns))


@lru_cache(maxsize=256)
def _cached_column_order(columns: tuple[Any, ...]) -> list[int] | None:
    """Clients send the same column list again and again: resolve each list once."""
    return _resolve_column_order(columns)


def _resolve_column_order(columns: tuple[Any, ...]) -> list[int] | None:
    positions: list[int] = []
    seen: set[int] = set()
    for column in columns:
        position = _position(column)
        if position in seen:
            raise RequestError(422, f"duplicated column {_describe(column)}")
        seen.add(position)
        positions.append(position)
    missing = [FEATURES[p] for p in range(len(FEATURES)) if p not in seen]
    if missing:
        raise RequestError(422, f"missing column(s): {', '.join(missing)}")
    order = sorted(range(len(positions)), key=positions.__getitem__)
    return None if order == list(range(len(FEATURES))) else order


def _position(column: Any) -> int:
    if isinstance(column, bool):
        raise RequestError(422, f"unknown column {column!r}")
    if isinstance(column, int):
        if 0 <= column < len(FEATURES):
            return column
        raise RequestError(422, f"unknown column position {column}: use 0..{len(FEATURES) - 1}")
    if isinstance(column, str) and column in _POSITION:
        return _POSITION[column]
    raise RequestError(422, f"unknown column {column!r}: use the feature names (LIMIT_BAL … PAY_AMT6) or positions")


def _describe(column: Any) -> str:
    if isinstance(column, int) and 0 <= column < len(FEATURES):
        return f"{column} ({FEATURES[column]})"
    return repr(column)


def _matrix(rows: list[Any], columns: list[Any] | None) -> np.ndarray:
    """The rows as a float matrix; the first bad row or cell is named when that fails.

    numpy infers the type of the whole batch at once: any string or null makes it non-numeric, so
    JSON numbers are told from '12' or null without a loop over the cells.
    """
    width = len(FEATURES) if columns is None else len(columns)
    try:
        values = np.array(rows)
    except ValueError:
        values = None
    if values is not None and values.ndim == 2 and values.shape[1] == width and values.dtype.kind in "iuf":
        return values.astype(np.float64, copy=False)
    raise _first_bad_cell(rows, columns, width)


def _first_bad_cell(rows: list[Any], columns: list[Any] | None, width: int) -> RequestError:
    for number, row in enumerate(rows):
        if not isinstance(row, list):
            return RequestError(422, f"row {number}: expected a list of {width} values")
        if len(row) != width:
            return RequestError(422, f"row {number}: {len(row)} values, expected {width}")
        for position, value in enumerate(row):
            if type(value) is not int and type(value) is not float:
                name = _name(columns, position)
                kind = "null" if value is None else f"non-numeric {value!r}"
                return RequestError(422, f"column {name} row {number}: {kind} value")
    return RequestError(422, "the rows could not be read as numbers")


def _name(columns: list[Any] | None, position: int) -> str:
    column = position if columns is None else columns[position]
    if isinstance(column, int) and 0 <= column < len(FEATURES):
        return f"'{FEATURES[column]}'"
    return repr(column)


def _check_values(features: np.ndarray) -> None:
    """Refuse NaN/inf, values out of range and codes that are not whole allowed codes."""
    within = (features >= _LOW) & (features <= _HIGH)  # False for NaN and ±inf too
    codes = features[:, _CODE_COLUMNS]
    if within.all() and (codes == np.floor(codes)).all():
        return
    with np.errstate(invalid="ignore"):
        bad = ~within
        bad[:, _CODE_COLUMNS] |= codes != np.floor(codes)
    row, column = (int(i) for i in np.argwhere(bad)[0])
    name = FEATURES[column]
    value = features[row, column]
    low, high = feature_bounds(name)
    if not np.isfinite(value):
        reason = f"{value} is not a finite number"
    elif name in CATEGORICAL_CODES:
        reason = f"{value:g} is not an allowed code ({low}..{high})"
    else:
        reason = f"{value:g} is outside {low}..{high}"
    raise RequestError(422, f"column '{name}' row {row}: {reason}")
