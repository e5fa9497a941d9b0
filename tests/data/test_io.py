from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from creditops.data.io import read_table, write_table
from creditops.data.schema import COLUMNS, ID_COLUMN
from creditops.errors import DataError

SHARED_SAMPLE = Path(__file__).resolve().parents[3] / "shared" / "data" / "credit_default_sample.xls"


@pytest.mark.parametrize("suffix", [".csv", ".parquet", ".xlsx"])
def test_round_trip_keeps_values_and_integer_types(tmp_path: Path, small_frame: pd.DataFrame, suffix: str) -> None:
    frame = small_frame.head(50)
    path = write_table(frame, tmp_path / f"data{suffix}")
    pd.testing.assert_frame_equal(read_table(path), frame)


def test_reads_the_uci_excel_layout_with_a_title_row(tmp_path: Path, small_frame: pd.DataFrame) -> None:
    # Given the UCI layout: a title row (X1..X23, Y) above the header row
    frame = small_frame.head(20)
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "Data"
    sheet.append(["", *[f"X{i}" for i in range(1, 24)], "Y"])
    sheet.append(list(COLUMNS))
    for row in frame.itertuples(index=False):
        sheet.append(list(row))
    path = tmp_path / "uci.xlsx"
    workbook.save(path)
    # When it is read, then the header is found and the values are integers
    pd.testing.assert_frame_equal(read_table(path), frame)


@pytest.mark.skipif(not SHARED_SAMPLE.is_file(), reason="the shared real UCI sample is not beside the repo")
def test_reads_the_real_uci_sample() -> None:
    frame = read_table(SHARED_SAMPLE)
    assert tuple(frame.columns) == COLUMNS
    assert len(frame) == 1000
    assert frame[ID_COLUMN].is_unique


def test_unsupported_suffix_is_named(tmp_path: Path) -> None:
    path = tmp_path / "data.json"
    path.write_text("{}")
    with pytest.raises(DataError, match=r"unsupported format '\.json'"):
        read_table(path)


def test_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="data file not found"):
        read_table(tmp_path / "absent.csv")


def test_unreadable_file_is_one_line_error(tmp_path: Path) -> None:
    path = tmp_path / "broken.parquet"
    path.write_bytes(b"not parquet")
    with pytest.raises(DataError, match="cannot read") as raised:
        read_table(path)
    assert "\n" not in str(raised.value)


def test_excel_without_the_contracts_header_row_is_rejected(tmp_path: Path) -> None:
    from creditops.data.contract import uci

    pd.DataFrame({"a": [1], "b": [2]}).to_excel(tmp_path / "x.xlsx", index=False)
    with pytest.raises(DataError, match="no header row with the uci-credit-default column names"):
        read_table(tmp_path / "x.xlsx", uci())
    with pytest.raises(DataError, match="no header row naming 'label'"):
        read_table(tmp_path / "x.xlsx", header=["label"])
    assert list(read_table(tmp_path / "x.xlsx").columns) == ["a", "b"]  # no contract: its first row


def test_excel_with_title_rows_finds_the_header_that_names_the_given_columns(tmp_path: Path) -> None:
    raw = pd.DataFrame([["Portfolio 2026", None], [None, None], ["amount", "bad"], [100, "no"], [250, "yes"]])
    raw.to_excel(tmp_path / "book.xlsx", index=False, header=False)
    frame = read_table(tmp_path / "book.xlsx", header=["bad"])
    assert list(frame.columns) == ["amount", "bad"]
    assert frame["amount"].tolist() == [100, 250]


def test_write_refuses_unknown_suffix_and_leaves_nothing(tmp_path: Path, small_frame: pd.DataFrame) -> None:
    with pytest.raises(DataError, match="unsupported format"):
        write_table(small_frame, tmp_path / "data.xls")
    assert list(tmp_path.iterdir()) == []


def test_failed_write_leaves_the_old_file_whole(tmp_path: Path, small_frame: pd.DataFrame) -> None:
    path = write_table(small_frame.head(5), tmp_path / "data.parquet")
    before = path.read_bytes()
    with pytest.raises(Exception):  # noqa: B017, PT011 - any failure of the writer
        write_table(pd.DataFrame({"bad": [object()]}), path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data.parquet"]


@pytest.mark.parametrize("suffix", [".csv", ".parquet", ".xlsx"])
def test_chunks_written_one_after_another_read_back_as_one_table(
    tmp_path: Path, small_frame: pd.DataFrame, suffix: str
) -> None:
    from creditops.data.io import write_chunks

    frame = small_frame.head(90)
    path = write_chunks((frame.iloc[start : start + 40] for start in range(0, 90, 40)), tmp_path / f"data{suffix}")
    pd.testing.assert_frame_equal(read_table(path), frame)


def test_a_failing_chunk_leaves_no_table_behind(tmp_path: Path, small_frame: pd.DataFrame) -> None:
    from creditops.data.io import write_chunks

    def chunks():
        yield small_frame.head(10)
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"):
        write_chunks(chunks(), tmp_path / "data.parquet")
    assert list(tmp_path.iterdir()) == []


def test_more_rows_than_an_excel_sheet_holds_is_refused(tmp_path: Path, monkeypatch, small_frame) -> None:
    from creditops.data import io

    monkeypatch.setattr(io, "EXCEL_ROWS", 20)
    with pytest.raises(DataError, match="30 rows is more than an Excel sheet holds"):
        io.write_chunks([small_frame.head(30)], tmp_path / "data.xlsx")
    assert list(tmp_path.iterdir()) == []


def test_a_csv_with_nothing_or_a_column_named_twice_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(DataError, match=r"cannot read .*empty\.csv: it is empty \(not even a header row\)"):
        read_table(tmp_path / "empty.csv")
    (tmp_path / "twice.csv").write_text("a,a,bad\n1,2,0\n")
    with pytest.raises(DataError, match=r"twice\.csv names the column\(s\) 'a' twice: keep one of each"):
        read_table(tmp_path / "twice.csv")
