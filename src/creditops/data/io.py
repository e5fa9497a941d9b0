"""Read and write data tables by file suffix; Excel sheets with title rows above the header (as UCI's) included."""

from collections.abc import Iterable
from pathlib import Path
from typing import IO, Final

import pandas as pd

from creditops.data.contract import Contract, uci
from creditops.data.location import DataLocation, as_location, open_binary, suffix_of
from creditops.errors import DataError, first_line
from creditops.files import atomic_path

READABLE: Final = (".csv", ".parquet", ".xlsx", ".xls")
WRITABLE: Final = (".csv", ".parquet", ".xlsx")
_HEADER_SEARCH_ROWS: Final = 10


def read_table(path: DataLocation, contract: Contract | None = None, *, header: Iterable[str] = ()) -> pd.DataFrame:
    """Load a data table from .csv, .parquet, .xlsx or .xls, at a local path or a URI read through fsspec
    (see creditops.data.location), finding the header row of an Excel sheet by the column names of
    `contract`, or as the first row that names every column of `header`; with neither, the UCI header where
    the sheet has one, else its first row."""
    location = as_location(path)
    suffix = suffix_of(location)
    if suffix not in READABLE:
        raise DataError(f"cannot read {location}: unsupported format '{suffix}'; use {_listing(READABLE)}")
    if isinstance(location, Path):
        if not location.is_file():
            raise DataError(f"data file not found: {location}")
        return _read(location, location, suffix, contract, tuple(header))
    with open_binary(location) as handle:
        return _read(handle, location, suffix, contract, tuple(header))


def _read(
    source: Path | IO[bytes], shown: DataLocation, suffix: str, contract: Contract | None, header: tuple[str, ...]
) -> pd.DataFrame:
    """The table in `source` (a local file, read by path as the readers prefer, or an open URI)."""
    try:
        if suffix == ".csv":
            csv_header(source, shown)
            if not isinstance(source, Path):
                source.seek(0)
            frame = pd.read_csv(source)
        elif suffix == ".parquet":
            frame = _read_parquet(source)
        else:
            frame = _read_excel(source, contract, header)
    except DataError:
        raise
    except Exception as error:  # every reader raises its own types; the user needs the file and cause
        raise DataError(f"cannot read {shown}: {first_line(error)}") from error
    return _whole_numbers_as_integers(frame)


def csv_header(path: Path | IO[bytes], shown: DataLocation | None = None) -> list[str]:
    """The column names of a CSV file (`shown` names an open one in messages), refusing a file with none and a
    name given twice (pandas would rename the second 'a.1' and the data would silently lose a column)."""
    if shown is None:
        shown = path if isinstance(path, Path) else "the table"
    try:
        names = [str(name) for name in pd.read_csv(path, header=None, nrows=1, dtype=str).iloc[0].tolist()]
    except pd.errors.EmptyDataError:
        raise DataError(f"cannot read {shown}: it is empty (not even a header row)") from None
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise DataError(f"{shown} names the column(s) {', '.join(map(repr, repeated))} twice: keep one of each")
    return names


def _read_parquet(path: Path | IO[bytes]) -> pd.DataFrame:
    """Parquet as a frame, each Arrow column freed as it is converted: the peak is about one copy of the
    data, not two (pandas' read_parquet holds the Arrow table and the frame at once)."""
    import pyarrow.parquet as pq

    frame: pd.DataFrame = pq.read_table(path).to_pandas(split_blocks=True, self_destruct=True)
    return frame


def writable_suffix(path: Path) -> str:
    """The format `path` names, refused with the formats there are when write_table cannot write it."""
    suffix = Path(path).suffix.lower()
    if suffix not in WRITABLE:
        raise DataError(f"cannot write {path}: unsupported format '{suffix}'; use {_listing(WRITABLE)}")
    return suffix


def write_table(frame: pd.DataFrame, path: Path) -> Path:
    """Write a data table atomically in the format its suffix names (.csv, .parquet or .xlsx)."""
    return write_chunks([frame], path)


EXCEL_ROWS: Final = 1_048_575
"""Rows below the header an Excel sheet holds."""


def write_chunks(frames: Iterable[pd.DataFrame], path: Path) -> Path:
    """Write frames of the same columns one after another as one table, atomically, holding one frame at a
    time in memory (CSV appends, Parquet one row group per frame); an .xlsx gets them all at once."""
    path = Path(path)
    suffix = writable_suffix(path)
    with atomic_path(path) as temporary:
        if suffix == ".xlsx":
            frame = pd.concat(list(frames), ignore_index=True)
            if len(frame) > EXCEL_ROWS:
                raise DataError(f"cannot write {path}: {len(frame):,} rows is more than an Excel sheet holds")
            frame.to_excel(temporary, index=False, sheet_name="Data", engine="openpyxl")
            return path
        if suffix == ".csv":
            for number, frame in enumerate(frames):
                frame.to_csv(temporary, index=False, mode="a", header=number == 0)
            return path
        import pyarrow as pa
        import pyarrow.parquet as pq

        writer = None
        try:
            for frame in frames:
                table = pa.Table.from_pandas(frame, preserve_index=False)
                if writer is None:
                    writer = pq.ParquetWriter(temporary, table.schema)
                writer.write_table(table)
        finally:
            if writer is not None:
                writer.close()
    return path


def _read_excel(path: Path | IO[bytes], contract: Contract | None, header: tuple[str, ...]) -> pd.DataFrame:
    raw = pd.read_excel(path, header=None, engine="calamine", dtype=object)
    if header:
        header_row = _row_naming(raw, set(header))
    elif contract is None:
        header_row = _row_naming(raw, {uci().id_column or "", uci().label_column}, default=0)
    else:
        header_row = _find_header_row(raw, contract)
    frame = raw.iloc[header_row + 1 :].reset_index(drop=True)
    frame.columns = [str(name).strip() for name in raw.iloc[header_row]]
    frame = frame.dropna(how="all")
    return frame.infer_objects()


def _find_header_row(raw: pd.DataFrame, contract: Contract) -> int:
    """The first row that names half the contract's columns, or its ID and label (the UCI file has a title
    row above its header)."""
    columns = set(contract.columns)
    key = {name for name in (contract.id_column, contract.label_column) if name is not None}
    for row in range(min(_HEADER_SEARCH_ROWS, len(raw))):
        names = {str(value).strip() for value in raw.iloc[row]}
        if (len(key) == 2 and key <= names) or len(names & columns) >= max(1, len(columns) // 2):
            return row
    shown = ", ".join(f"'{name}'" for name in list(contract.columns)[:2])
    raise DataError(
        f"no header row with the {contract.name} column names (e.g. {shown}) in the first {_HEADER_SEARCH_ROWS}"
        " rows: check the sheet, or the schema's column names"
    )


def _row_naming(raw: pd.DataFrame, names: set[str], default: int | None = None) -> int:
    """The first row that names every one of `names` (`default` when none does, else an error)."""
    for row in range(min(_HEADER_SEARCH_ROWS, len(raw))):
        if names <= {str(value).strip() for value in raw.iloc[row]}:
            return row
    if default is not None:
        return default
    listed = ", ".join(f"'{name}'" for name in sorted(names))
    raise DataError(f"no header row naming {listed} in the first {_HEADER_SEARCH_ROWS} rows: check the column names")


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
