"""Read and write data tables by file suffix; the UCI Excel layout (title row above the header) included."""

from pathlib import Path
from typing import Final

import pandas as pd

from creditops.data.schema import COLUMNS, ID_COLUMN, LABEL
from creditops.errors import DataError
from creditops.files import atomic_path

READABLE: Final = (".csv", ".parquet", ".xlsx", ".xls")
WRITABLE: Final = (".csv", ".parquet", ".xlsx")
_HEADER_SEARCH_ROWS: Final = 10


def read_table(path: Path) -> pd.DataFrame:
    """Load a data table from .csv, .parquet, .xlsx or .xls, finding the header row in Excel files."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in READABLE:
        raise DataError(f"cannot read {path}: unsupported format '{suffix}'; use {_listing(READABLE)}")
    if not path.is_file():
        raise DataError(f"data file not found: {path}")
    try:
        if suffix == ".csv":
            frame = pd.read_csv(path)
        elif suffix == ".parquet":
            frame = pd.read_parquet(path)
        else:
            frame = _read_excel(path)
    except DataError:
        raise
    except Exception as error:  # every reader raises its own types; the user needs the file and cause
        raise DataError(f"cannot read {path}: {_first_line(error)}") from error
    return _whole_numbers_as_integers(frame)


def writable_suffix(path: Path) -> str:
    """The format `path` names, refused with the formats there are when write_table cannot write it."""
    suffix = Path(path).suffix.lower()
    if suffix not in WRITABLE:
        raise DataError(f"cannot write {path}: unsupported format '{suffix}'; use {_listing(WRITABLE)}")
    return suffix


def write_table(frame: pd.DataFrame, path: Path) -> Path:
    """Write a data table atomically in the format its suffix names (.csv, .parquet or .xlsx)."""
    path = Path(path)
    suffix = writable_suffix(path)
    with atomic_path(path) as temporary:
        if suffix == ".csv":
            frame.to_csv(temporary, index=False)
        elif suffix == ".parquet":
            frame.to_parquet(temporary, index=False)
        else:
            frame.to_excel(temporary, index=False, sheet_name="Data", engine="openpyxl")
    return path


def _read_excel(path: Path) -> pd.DataFrame:
    raw = pd.read_excel(path, header=None, engine="calamine", dtype=object)
    header_row = _find_header_row(raw)
    frame = raw.iloc[header_row + 1 :].reset_index(drop=True)
    frame.columns = [str(name).strip() for name in raw.iloc[header_row]]
    frame = frame.dropna(how="all")
    return frame.infer_objects()


def _find_header_row(raw: pd.DataFrame) -> int:
    """The first row that names the ID and label columns (the UCI file has a title row above it)."""
    for row in range(min(_HEADER_SEARCH_ROWS, len(raw))):
        names = {str(value).strip() for value in raw.iloc[row]}
        if {ID_COLUMN, LABEL} <= names or len(names & set(COLUMNS)) >= len(COLUMNS) // 2:
            return row
    raise DataError(
        f"no header row with the UCI column names (e.g. '{ID_COLUMN}', '{LABEL}') "
        f"in the first {_HEADER_SEARCH_ROWS} rows"
    )


def _whole_numbers_as_integers(frame: pd.DataFrame) -> pd.DataFrame:
    """Cast float or object columns that hold only whole numbers (as Excel stores them) to int64."""
    converted = {}
    for column in frame.columns:
        values = frame[column]
        if pd.api.types.is_integer_dtype(values) or pd.api.types.is_bool_dtype(values):
            continue
        numeric = pd.to_numeric(values, errors="coerce")
        if numeric.notna().all() and len(numeric) and (numeric % 1 == 0).all():
            converted[column] = numeric.astype("int64")
    return frame.assign(**converted) if converted else frame


def _listing(suffixes: tuple[str, ...]) -> str:
    return ", ".join(suffixes)


def _first_line(error: Exception) -> str:
    text = str(error).strip() or type(error).__name__
    return text.splitlines()[0]
