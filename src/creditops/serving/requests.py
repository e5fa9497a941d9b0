"""Scoring requests (Azure ML `input_data` and MLflow's formats) → one validated matrix of the request
columns of the model's data contract, and the model's features taken from it.

Columns may be names or 0-based positions in the contract's request order (its features and protected
columns; positional rows may also carry the features alone). Protected columns may be sent or left out:
they are validated and logged for fairness monitoring, never scored. Text categories are read as their
codes; an unknown one is refused. Every problem is a RequestError with the HTTP status to answer and a
message naming the column and row: 400 for a body that is not a table in one of the formats (what MLflow's
scoring server also refuses with 400), 413 for too many rows, 422 for a table this model cannot score.
Validation is vectorised: one numpy conversion and one bounds check for the whole batch.
"""

import json
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Final

import numpy as np
import orjson

from creditops.data.contract import Contract
from creditops.serving.errors import RequestError
from creditops.serving.protocol import MAX_REASONS, OnInvalid
from creditops.serving.validation import ValueRules

FORMATS: Final = ("input_data", "dataframe_split", "dataframe_records", "instances", "inputs")


@dataclass(frozen=True)
class ScoringRequest:
    """Validated rows: every request column (NaN where a protected column was not sent) and the model's
    features, and the caller's row index."""

    columns: np.ndarray
    """The rows over the contract's request columns: what the request log keeps for monitoring."""
    features: np.ndarray
    """The rows over the model's features, in training order: what is scored."""
    index: list[Any]
    warnings: dict[int, list[str]] | None = None
    """Per row, the range and code checks it failed; only with on_invalid="flag" (None: every row passed)."""
    ids: list[Any] | None = None
    """The rows' IDs when the request carried them (an `index`, or an ID column): the request log keeps
    them, so outcomes observed later can be joined to the predictions."""
    explain: int = 0
    """Reasons asked for per row by the body's `"explain": K` (0: none)."""


_SHOWN: Final = 60
"""Longest piece of a request quoted back in an error message."""


def parse_request(
    body: bytes, contract: Contract, *, max_rows: int, on_invalid: OnInvalid = "reject"
) -> ScoringRequest:
    """Parse and validate a JSON scoring request body against `contract`.

    With `on_invalid="flag"`, rows whose values are out of range or not an allowed code are kept and
    carry warnings; structural problems (missing columns, non-numbers, NaN) are refused in both modes.
    """
    return reader(contract).parse(body, max_rows=max_rows, on_invalid=on_invalid)


def parse_csv_request(
    body: bytes, contract: Contract, *, max_rows: int, on_invalid: OnInvalid = "reject"
) -> ScoringRequest:
    """Parse and validate a CSV body (a header row, then one row per line) as MLflow's scoring server reads
    `text/csv`: with pandas, which makes numbers of numeric cells and empty cells missing. The rows then
    pass the same checks as JSON rows. A first column without a name (the index `DataFrame.to_csv()`
    writes) is the rows' index."""
    return reader(contract).parse_csv(body, max_rows=max_rows, on_invalid=on_invalid)


def count_rows(body: bytes) -> int:
    """The rows a request holds, read by its format alone (any contract); a request with none is refused."""
    _, rows, _ = _table(_load_json(body))
    if not rows:
        raise RequestError(422, "empty batch: send at least one row")
    return len(rows)


def reader(contract: Contract) -> "RequestReader":
    """The request reader of a contract, made once per contract a process serves."""
    key = contract.digest()
    if key not in _READERS:
        _READERS[key] = RequestReader(contract)
    return _READERS[key]


_READERS: dict[str, "RequestReader"] = {}


class RequestReader:
    """Reads requests for one contract: its column positions, text codes and value checks, made once."""

    def __init__(self, contract: Contract) -> None:
        self.contract = contract
        self.names = contract.request_columns
        self.positions = {name: position for position, name in enumerate(self.names)}
        self.id_column = contract.id_column
        self.required = frozenset(contract.features)
        self.text = {self.positions[name]: codes for name, codes in contract.text_columns.items()}
        self.may_miss = frozenset(p for p, name in enumerate(self.names) if contract.columns[name].missing)
        self.booleans = frozenset(p for p, name in enumerate(self.names) if contract.columns[name].type == "boolean")
        self.every = tuple(range(len(self.names)))
        self.only_features = tuple(int(p) for p in contract.feature_positions)
        self.column_order = lru_cache(maxsize=256)(self._resolve_column_order)
        self.rules = lru_cache(maxsize=64)(self._rules)

    def _rules(self, present: tuple[int, ...]) -> ValueRules:
        return ValueRules(self.contract, tuple(self.names[p] for p in present))

    def parse(self, body: bytes, *, max_rows: int, on_invalid: OnInvalid) -> ScoringRequest:
        payload = _load_json(body)
        columns, rows, index = _table(payload)
        booleans = b"true" in body or b"false" in body
        return self._validated(
            columns, rows, index, booleans, max_rows=max_rows, on_invalid=on_invalid, explain=payload.get("explain")
        )

    def parse_csv(self, body: bytes, *, max_rows: int, on_invalid: OnInvalid) -> ScoringRequest:
        columns, rows, index = _csv_table(body)
        booleans = any(type(value) is bool for row in rows for value in row)
        return self._validated(columns, rows, index, booleans, max_rows=max_rows, on_invalid=on_invalid)

    def _validated(
        self,
        columns: list[Any] | None,
        rows: list[Any],
        index: list[Any] | None,
        booleans: bool,
        *,
        max_rows: int,
        on_invalid: OnInvalid,
        explain: Any = None,
    ) -> ScoringRequest:
        """The checked request of a table read from any body; `booleans`: whether a cell may be true or false,
        `explain`: the body's "explain" (checked after the table: a body that is no table is a 400 first)."""
        if not rows:
            raise RequestError(422, "empty batch: send at least one row")
        if len(rows) > max_rows:
            raise RequestError(413, f"{len(rows)} rows is more than the maximum of {max_rows} per request")
        if index is not None and len(index) != len(rows):
            raise RequestError(400, f"index has {len(index)} entries for {len(rows)} rows")
        if columns is not None and (not isinstance(rows[0], list) or len(rows[0]) != len(columns)):
            raise RequestError(400, f"row 0: {_row_size(rows[0])} for {len(columns)} columns")
        order, id_position, present = self._order(columns, rows)
        values = self._matrix(rows, columns, present if columns is None else None, booleans)
        sent = values[:, order] if order is not None else values
        if id_position is not None:
            if index is not None:
                raise RequestError(422, f"the rows' IDs came twice: send either an index or an {self.id_column} column")
            index = self._whole_ids(values[:, id_position])
        ids = index
        if index is None:
            index = list(range(len(rows)))
        rules = self.rules(present)
        warnings = None
        if on_invalid == "flag":
            warnings = rules.flag(sent)
        else:
            rules.check(sent)
        every = sent if present == self.every else self._spread(sent, present)
        features = np.ascontiguousarray(every[:, self.only_features])
        return ScoringRequest(every, features, index, warnings, ids, _explain(explain))

    def _spread(self, sent: np.ndarray, present: tuple[int, ...]) -> np.ndarray:
        """The sent columns placed among all request columns; the protected ones not sent are NaN."""
        every = np.full((len(sent), len(self.names)), np.nan)
        every[:, list(present)] = sent
        return every

    def _order(
        self, columns: list[Any] | None, rows: list[Any]
    ) -> tuple[list[int] | None, int | None, tuple[int, ...]]:
        """Where the request's values go: the positions that put the sent columns in request order (None:
        already in order), the position of its ID column, and which request columns were sent."""
        if columns is not None:
            try:
                return self.column_order(tuple(columns))
            except TypeError:  # an unhashable column name: let the uncached path name it
                return self._resolve_column_order(tuple(columns))
        width = len(rows[0]) if isinstance(rows[0], list) else -1
        if width == len(self.only_features) and width != len(self.every):
            return None, None, self.only_features
        return None, None, self.every

    def _resolve_column_order(self, columns: tuple[Any, ...]) -> tuple[list[int] | None, int | None, tuple[int, ...]]:
        placed: dict[int, int] = {}
        id_position = None
        for request_position, column in enumerate(columns):
            if self.id_column is not None and column == self.id_column and type(column) is str:
                if id_position is not None:
                    raise RequestError(422, f"duplicated column {self.id_column!r}")
                id_position = request_position
                continue
            position = self._position(column)
            if position in placed:
                raise RequestError(422, f"duplicated column {self._describe(column)}")
            placed[position] = request_position
        missing = [name for name in self.contract.features if self.positions[name] not in placed]
        if missing:
            raise RequestError(422, f"missing column(s): {', '.join(missing)}")
        present = tuple(sorted(placed))
        order = [placed[position] for position in present]
        return (None if order == list(range(len(columns))) else order), id_position, present

    def _position(self, column: Any) -> int:
        if isinstance(column, bool):
            raise RequestError(422, f"unknown column {_short(column)}")
        if isinstance(column, int):
            if 0 <= column < len(self.names):
                return column
            raise RequestError(422, f"unknown column position {column}: use 0..{len(self.names) - 1}")
        if isinstance(column, str) and column in self.positions:
            return self.positions[column]
        first, last = self.names[0], self.names[-1]
        raise RequestError(
            422, f"unknown column {_short(column)}: use the column names ({first} … {last}) or positions"
        )

    def _describe(self, column: Any) -> str:
        if isinstance(column, int) and not isinstance(column, bool) and 0 <= column < len(self.names):
            return f"{column} ({self.names[column]})"
        return _short(column)

    def _name(self, columns: list[Any] | None, present: tuple[int, ...] | None, position: int) -> str:
        if columns is None:
            column: Any = (present or self.every)[position]
        else:
            column = columns[position]
        if isinstance(column, int) and not isinstance(column, bool) and 0 <= column < len(self.names):
            return f"'{self.names[column]}'"
        return repr(column)

    def _sent_position(self, columns: list[Any] | None, present: tuple[int, ...] | None, position: int) -> int | None:
        """The request column a cell belongs to (None: the ID column or an unknown one)."""
        column = (present or self.every)[position] if columns is None else columns[position]
        if isinstance(column, bool):
            return None
        if isinstance(column, int):
            return column
        return self.positions.get(column) if isinstance(column, str) else None

    def _matrix(
        self, rows: list[Any], columns: list[Any] | None, present: tuple[int, ...] | None, booleans: bool
    ) -> np.ndarray:
        """The rows as a float matrix; the first bad row or cell is named when that fails.

        numpy infers the type of the whole batch at once: any string or null makes it non-numeric, so JSON
        numbers are told from '12' or null without a loop over the cells. It reads true and false as 1 and 0,
        so when a cell may be either (`booleans`) the cells are looked at one by one. Contracts with text categories
        or columns that may be missing read such rows cell by cell."""
        width = len(present or self.every) if columns is None else len(columns)
        try:
            values = np.array(rows)
        except (ValueError, RecursionError):
            values = None
        if values is not None and values.ndim == 2 and values.shape[1] == width and values.dtype.kind in "iuf":
            if booleans:
                self._refuse_booleans(rows, columns, present)
            return values.astype(np.float64, copy=False)
        not_a_table = _not_a_table(rows, columns)
        if not_a_table is not None:
            raise not_a_table
        if self.text or self.may_miss:
            return self._cell_by_cell(rows, columns, present, width)
        raise self._first_bad_cell(rows, columns, present, width)

    def _cell_by_cell(
        self, rows: list[Any], columns: list[Any] | None, present: tuple[int, ...] | None, width: int
    ) -> np.ndarray:
        """Rows with text categories or empty cells: each cell as its number or code."""
        targets = [self._sent_position(columns, present, p) for p in range(width)]
        matrix = np.empty((len(rows), width), dtype=np.float64)
        for number, row in enumerate(rows):
            if not isinstance(row, list) or len(row) != width:
                raise _bad_row(row, number, width)
            for position, (value, target) in enumerate(zip(row, targets, strict=True)):
                matrix[number, position] = self._cell(value, target, columns, present, position, number)
        return matrix

    def _cell(
        self,
        value: Any,
        target: int | None,
        columns: list[Any] | None,
        present: tuple[int, ...] | None,
        position: int,
        number: int,
    ) -> float:
        if value is None and target in self.may_miss:
            return float("nan")
        if target in self.text:
            codes = self.text[target]
            if type(value) is str and value in codes:
                return float(codes[value])
            listed = ", ".join(list(codes)[:12]) + (" …" if len(codes) > 12 else "")
            what = "null" if value is None else _short(value)
            name = self._name(columns, present, position)
            raise RequestError(422, f"column {name} row {number}: {what} is not an allowed category ({listed})")
        if type(value) is int or type(value) is float or (type(value) is bool and target in self.booleans):
            return float(value)
        name = self._name(columns, present, position)
        if type(value) is bool:
            raise RequestError(422, f"column {name} row {number}: {str(value).lower()} is a boolean, not a number")
        kind = "null" if value is None else f"non-numeric {_short(value)}"
        raise RequestError(422, f"column {name} row {number}: {kind} value")

    def _refuse_booleans(self, rows: list[Any], columns: list[Any] | None, present: tuple[int, ...] | None) -> None:
        for number, row in enumerate(rows):
            for position, value in enumerate(row):
                if type(value) is bool and self._sent_position(columns, present, position) not in self.booleans:
                    name = self._name(columns, present, position)
                    raise RequestError(
                        422, f"column {name} row {number}: {str(value).lower()} is a boolean, not a number"
                    )

    def _first_bad_cell(
        self, rows: list[Any], columns: list[Any] | None, present: tuple[int, ...] | None, width: int
    ) -> RequestError:
        for number, row in enumerate(rows):
            if not isinstance(row, list) or len(row) != width:
                return _bad_row(row, number, width)
            for position, value in enumerate(row):
                if type(value) is not int and type(value) is not float:
                    name = self._name(columns, present, position)
                    kind = "null" if value is None else f"non-numeric {_short(value)}"
                    return RequestError(422, f"column {name} row {number}: {kind} value")
        return RequestError(422, "the rows could not be read as numbers")

    def _whole_ids(self, column: np.ndarray) -> list[int]:
        whole = np.isfinite(column) & (column == np.round(column)) & (np.abs(column) <= _LARGEST_ID)
        if not whole.all():
            row = int(np.argmin(whole))
            raise RequestError(
                422,
                f"column {self.id_column} row {row}: {column[row]:g} is not a whole number up to 2**53"
                " (send other IDs as the index)",
            )
        return [int(value) for value in column]


_LARGEST_ID: Final = 2**53
"""The largest whole number a JSON number (a double) holds exactly."""


def _explain(asked: Any) -> int:
    """K of the body's `"explain": K` (0 when absent); anything but a whole number 1..MAX_REASONS is a 422."""
    if asked is None:
        return 0
    if type(asked) is not int or not 1 <= asked <= MAX_REASONS:
        raise RequestError(
            422, f"explain must be a whole number of reasons from 1 to {MAX_REASONS}, not {_short(asked)}"
        )
    return asked


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
    """(columns or None for positional rows, rows, index or None) from any supported format.

    A body that is not a table in exactly one format is a 400, as MLflow's scoring server answers:
    `dataframe_split` is pandas' split orient (an object with `data`, optionally `columns` and `index`),
    `dataframe_records` a list of objects, `instances` and `inputs` rows or an object of columns."""
    if not isinstance(payload, dict):
        raise RequestError(400, f"the request must be a JSON object with one of: {', '.join(FORMATS)}")
    present = [key for key in FORMATS if key in payload]
    if len(present) != 1:
        keys = [_short(key) for key in list(payload)[:5]]
        found = (", ".join(keys) + (f" and {len(payload) - 5} more" if len(payload) > 5 else "")) or "no keys"
        raise RequestError(400, f"expected exactly one of {', '.join(FORMATS)}; found {found}")
    key = present[0]
    content = payload[key]
    if isinstance(content, dict):
        if key in ("input_data", "dataframe_split"):
            return _split(key, content)
        if key in ("inputs", "instances"):
            return _column_mapping(key, content)
    elif isinstance(content, list) and key != "dataframe_split":
        if key == "dataframe_records" or (content and isinstance(content[0], dict)):
            return _records(key, content)
        return None, content, None
    wanted = {
        "dataframe_split": "an object with 'data' and optionally 'columns' and 'index' (pandas' split orient)",
        "dataframe_records": "a list of objects, one per row",
    }.get(key, "a list of rows or an object with columns and data")
    raise RequestError(400, f"'{key}' must be {wanted}, not {_kind(content)}")


def _kind(value: Any) -> str:
    """A JSON value's kind, as an error message names it."""
    if value is None:
        return "null"
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean"}.get(type(value), "a number")


_SPLIT_KEYS: Final = frozenset({"columns", "data", "index"})


def _split(key: str, content: dict[str, Any]) -> tuple[list[Any] | None, list[Any], list[Any] | None]:
    columns, data, index = content.get("columns"), content.get("data"), content.get("index")
    if "data" not in content or not _SPLIT_KEYS.issuperset(content):
        found = ", ".join(_short(name) for name in list(content)[:5]) or "no keys"
        raise RequestError(400, f"'{key}' needs 'data' and optionally 'columns' and 'index'; found {found}")
    for name, value in (("columns", columns), ("data", data), ("index", index)):
        if not isinstance(value, list) and (value is not None or name == "data"):
            raise RequestError(400, f"'{key}.{name}' must be a list, not {_kind(value)}")
    return columns, data or [], index


def _records(key: str, content: list[Any]) -> tuple[list[Any], list[Any], None]:
    if not content:
        return [], [], None
    columns = list(content[0]) if isinstance(content[0], dict) else []
    rows = []
    for number, record in enumerate(content):
        if not isinstance(record, dict):
            raise RequestError(400, f"'{key}' row {number}: expected an object of column values, not {_kind(record)}")
        if list(record) != columns and set(record) != set(columns):
            raise RequestError(400, f"'{key}' row {number}: its columns differ from row 0's")
        rows.append([record[column] for column in columns])
    return columns, rows, None


def _column_mapping(key: str, content: dict[str, Any]) -> tuple[list[Any], list[Any], None]:
    columns = list(content)
    series = [content[column] for column in columns]
    if not all(isinstance(values, list) for values in series):
        raise RequestError(400, f"'{key}' as an object must map each column to a list of values")
    lengths = {len(values) for values in series}
    if len(lengths) > 1:
        raise RequestError(400, f"'{key}' columns have different lengths")
    for column, values in zip(columns, series, strict=True):
        if any(isinstance(value, list | dict) for value in values) and not _an_array(values):
            raise RequestError(400, f"'{key}' column {_short(column)}: its values are lists of different shapes")
    return columns, [list(row) for row in zip(*series, strict=True)], None


def _an_array(values: list[Any]) -> bool:
    """Whether numpy makes one array of `values` (MLflow's server reads each column of an object of columns
    so, and answers 400 where numpy cannot: nested lists of different lengths)."""
    try:
        np.asarray(values)
    except ValueError:
        return False
    return True


def _not_a_table(rows: list[Any], columns: list[Any] | None) -> RequestError | None:
    """A 400 when the rows are not a table: they disagree with the columns named, or with each other
    (pandas and numpy refuse those too, so MLflow's server answers them with a 400)."""
    first = rows[0]
    for number, row in enumerate(rows):
        if columns is not None and (not isinstance(row, list) or len(row) != len(columns)):
            return RequestError(400, f"row {number}: {_row_size(row)} for {len(columns)} columns")
        if isinstance(row, list) != isinstance(first, list) or (isinstance(row, list) and len(row) != len(first)):
            return RequestError(400, f"row {number}: {_row_size(row)}, where row 0 has {_row_size(first)}")
    return None


def _bad_row(row: Any, number: int, width: int) -> RequestError:
    if not isinstance(row, list):
        return RequestError(422, f"row {number}: expected a list of {width} values")
    return RequestError(422, f"row {number}: {len(row)} values, expected {width}")


def _row_size(row: Any) -> str:
    return f"{len(row)} values" if isinstance(row, list) else _kind(row)


_UNNAMED_INDEX: Final = "Unnamed: 0"
"""How pandas names the header-less first column that `DataFrame.to_csv()` writes for the index."""


def _csv_table(body: bytes) -> tuple[list[Any], list[Any], list[Any] | None]:
    """(columns, rows, index) of a CSV body read as MLflow reads it (`pandas.read_csv`); a body pandas
    cannot read is a 400. Empty cells are null; numbers are numbers, other cells text."""
    import io

    import pandas as pd

    try:
        frame = pd.read_csv(io.StringIO(body.decode("utf-8")))
    except UnicodeDecodeError as error:
        raise RequestError(400, f"the CSV is not UTF-8: {error}") from error
    except (ValueError, pd.errors.ParserError, OverflowError) as error:  # EmptyDataError is a ValueError
        raise RequestError(400, f"malformed CSV: {str(error).strip()[:200]}") from error
    index = None
    if len(frame.columns) and frame.columns[0] == _UNNAMED_INDEX:
        index = frame.pop(_UNNAMED_INDEX).tolist()
    # column by column, NaN (the one value unequal to itself) as None, JSON's null: under 1 ms for one row, where
    # `frame.astype(object).where(frame.notna(), None)` costs 10 ms
    series = [[None if value != value else value for value in column.tolist()] for _name, column in frame.items()]
    return [str(name) for name in frame.columns], [list(row) for row in zip(*series, strict=True)], index
