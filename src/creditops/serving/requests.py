"""Scoring requests (Azure ML `input_data` and MLflow's formats) → one validated feature matrix.

Columns may be feature names or 0-based positions in the training column order. Every problem is a
RequestError with the HTTP status to answer and a message naming the column and row. Validation is
vectorised: one numpy conversion and one bounds check for the whole batch.
"""

import json
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Final

import numpy as np
import orjson

from creditops.data.schema import FEATURES, ID_COLUMN
from creditops.serving.errors import RequestError
from creditops.serving.protocol import MAX_REASONS, OnInvalid
from creditops.serving.validation import check_values, flag_values

FORMATS: Final = ("input_data", "dataframe_split", "dataframe_records", "instances", "inputs")
_POSITION: Final = {name: position for position, name in enumerate(FEATURES)}


@dataclass(frozen=True)
class ScoringRequest:
    """Validated features in training column order, and the caller's row index."""

    features: np.ndarray
    index: list[Any]
    warnings: dict[int, list[str]] | None = None
    """Per row, the range and code checks it failed; only with on_invalid="flag" (None: every row passed)."""
    ids: list[Any] | None = None
    """The rows' IDs when the request carried them (an `index`, or an `ID` column): the request log keeps
    them, so outcomes observed later can be joined to the predictions."""
    explain: int = 0
    """Reasons asked for per row by the body's `"explain": K` (0: none)."""


_SHOWN: Final = 60
"""Longest piece of a request quoted back in an error message."""


def parse_request(body: bytes, *, max_rows: int, on_invalid: OnInvalid = "reject") -> ScoringRequest:
    """Parse and validate a JSON scoring request body.

    With `on_invalid="flag"`, rows whose values are out of range or not an allowed code are kept and
    carry warnings; structural problems (missing columns, non-numbers, NaN) are refused in both modes.
    """
    payload = _load_json(body)
    columns, rows, index = _table(payload)
    explain = _explain(payload.get("explain"))
    if not rows:
        raise RequestError(422, "empty batch: send at least one row")
    if len(rows) > max_rows:
        raise RequestError(413, f"{len(rows)} rows is more than the maximum of {max_rows} per request")
    order, id_position = _column_order(columns)
    values = _matrix(rows, columns, may_hold_booleans=b"true" in body or b"false" in body)
    features = values[:, order] if order is not None else values
    if id_position is not None:
        if index is not None:
            raise RequestError(422, f"the rows' IDs came twice: send either an index or an {ID_COLUMN} column")
        index = _whole_ids(values[:, id_position])
    ids = index
    if index is None:
        index = list(range(len(rows)))
    elif len(index) != len(rows):
        raise RequestError(422, f"index has {len(index)} entries for {len(rows)} rows")
    warnings = None
    if on_invalid == "flag":
        warnings = flag_values(features)
    else:
        check_values(features)
    return ScoringRequest(features, index, warnings, ids, explain)


def _explain(asked: Any) -> int:
    """K of the body's `"explain": K` (0 when absent); anything but a whole number 1..MAX_REASONS is a 422."""
    if asked is None:
        return 0
    if type(asked) is not int or not 1 <= asked <= MAX_REASONS:
        raise RequestError(
            422, f"explain must be a whole number of reasons from 1 to {MAX_REASONS}, not {_short(asked)}"
        )
    return asked


def _whole_ids(column: np.ndarray) -> list[int]:
    whole = np.isfinite(column) & (column == np.round(column)) & (np.abs(column) <= _LARGEST_ID)
    if not whole.all():
        row = int(np.argmin(whole))
        raise RequestError(
            422,
            f"column {ID_COLUMN} row {row}: {column[row]:g} is not a whole number up to 2**53"
            " (send other IDs as the index)",
        )
    return [int(value) for value in column]


_LARGEST_ID: Final = 2**53
"""The largest whole number a JSON number (a double) holds exactly."""


def _load_json(body: bytes) -> Any:
    """orjson first; strict JSON has no NaN, Infinity or 1e999, so a body orjson refuses is read again by
    the standard library, which accepts them, to answer 422 'not a finite number' rather than 400. Its
    parser recurses: a body nested deeper than Python's stack is malformed JSON (400), never a crash."""
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as error:
        try:
            return json.loads(body)
        except (ValueError, RecursionError):
            raise RequestError(400, f"malformed JSON: {error}") from error


def _short(value: Any) -> str:
    """`repr(value)`, cut to a length that fits in one line of an error message."""
    text = repr(value)
    return text if len(text) <= _SHOWN else f"{text[:_SHOWN]}…"


def _table(payload: Any) -> tuple[list[Any] | None, list[Any], list[Any] | None]:
    """(columns or None for positional rows, rows, index or None) from any supported format."""
    if not isinstance(payload, dict):
        raise RequestError(422, f"the request must be a JSON object with one of: {', '.join(FORMATS)}")
    present = [key for key in FORMATS if key in payload]
    if len(present) != 1:
        keys = [_short(key) for key in list(payload)[:5]]
        found = (", ".join(keys) + (f" and {len(payload) - 5} more" if len(payload) > 5 else "")) or "no keys"
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


def _column_order(columns: list[Any] | None) -> tuple[list[int] | None, int | None]:
    """Positions of the request's columns that put the features in training order (None: already in
    order), and the position of its ID column (None: it has none)."""
    if columns is None:
        return None, None
    try:
        return _cached_column_order(tuple(columns))
    except TypeError:  # an unhashable column name: let the uncached path name it
        return _resolve_column_order(tuple(columns))


@lru_cache(maxsize=256)
def _cached_column_order(columns: tuple[Any, ...]) -> tuple[list[int] | None, int | None]:
    """Clients send the same column list again and again: resolve each list once."""
    return _resolve_column_order(columns)


def _resolve_column_order(columns: tuple[Any, ...]) -> tuple[list[int] | None, int | None]:
    placed: dict[int, int] = {}
    id_position = None
    for request_position, column in enumerate(columns):
        if column == ID_COLUMN and type(column) is str:
            if id_position is not None:
                raise RequestError(422, f"duplicated column {ID_COLUMN!r}")
            id_position = request_position
            continue
        position = _position(column)
        if position in placed:
            raise RequestError(422, f"duplicated column {_describe(column)}")
        placed[position] = request_position
    missing = [FEATURES[p] for p in range(len(FEATURES)) if p not in placed]
    if missing:
        raise RequestError(422, f"missing column(s): {', '.join(missing)}")
    order = [placed[position] for position in range(len(FEATURES))]
    return (None if order == list(range(len(FEATURES))) else order), id_position


def _position(column: Any) -> int:
    if isinstance(column, bool):
        raise RequestError(422, f"unknown column {_short(column)}")
    if isinstance(column, int):
        if 0 <= column < len(FEATURES):
            return column
        raise RequestError(422, f"unknown column position {column}: use 0..{len(FEATURES) - 1}")
    if isinstance(column, str) and column in _POSITION:
        return _POSITION[column]
    raise RequestError(
        422, f"unknown column {_short(column)}: use the feature names (LIMIT_BAL … PAY_AMT6) or positions"
    )


def _describe(column: Any) -> str:
    if isinstance(column, int) and 0 <= column < len(FEATURES):
        return f"{column} ({FEATURES[column]})"
    return _short(column)


def _matrix(rows: list[Any], columns: list[Any] | None, *, may_hold_booleans: bool) -> np.ndarray:
    """The rows as a float matrix; the first bad row or cell is named when that fails.

    numpy infers the type of the whole batch at once: any string or null makes it non-numeric, so
    JSON numbers are told from '12' or null without a loop over the cells. It reads true and false as
    1 and 0, so a body that holds either word has its cells looked at one by one.
    """
    width = len(FEATURES) if columns is None else len(columns)
    try:
        values = np.array(rows)
    except (ValueError, RecursionError):
        values = None
    if values is not None and values.ndim == 2 and values.shape[1] == width and values.dtype.kind in "iuf":
        if may_hold_booleans:
            _refuse_booleans(rows, columns)
        return values.astype(np.float64, copy=False)
    raise _first_bad_cell(rows, columns, width)


def _refuse_booleans(rows: list[Any], columns: list[Any] | None) -> None:
    for number, row in enumerate(rows):
        for position, value in enumerate(row):
            if type(value) is bool:
                name = _name(columns, position)
                raise RequestError(422, f"column {name} row {number}: {str(value).lower()} is a boolean, not a number")


def _first_bad_cell(rows: list[Any], columns: list[Any] | None, width: int) -> RequestError:
    for number, row in enumerate(rows):
        if not isinstance(row, list):
            return RequestError(422, f"row {number}: expected a list of {width} values")
        if len(row) != width:
            return RequestError(422, f"row {number}: {len(row)} values, expected {width}")
        for position, value in enumerate(row):
            if type(value) is not int and type(value) is not float:
                name = _name(columns, position)
                kind = "null" if value is None else f"non-numeric {_short(value)}"
                return RequestError(422, f"column {name} row {number}: {kind} value")
    return RequestError(422, "the rows could not be read as numbers")


def _name(columns: list[Any] | None, position: int) -> str:
    column = position if columns is None else columns[position]
    if isinstance(column, int) and 0 <= column < len(FEATURES):
        return f"'{FEATURES[column]}'"
    return repr(column)
