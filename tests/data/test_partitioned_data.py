"""Partitioned data, as `creditops run --cluster` reads it: a split by hashed IDs that no partitioning changes,
one digest for a folder or glob of Parquet parts, and checks per partition that add up to the whole frame's."""

import itertools
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from creditops.data import location
from creditops.data.checks import Part, check_data, merge_failures
from creditops.data.contract import uci
from creditops.data.io import write_table
from creditops.data.location import parquet_parts, sha256, sha256_parts
from creditops.data.schema import LABEL
from creditops.data.split import in_test_part
from creditops.data.synth import synthesize
from creditops.errors import DataError


def _cuts(rows: int, seed: int) -> list[int]:
    """Random partition boundaries, empty partitions included."""
    inner = np.sort(np.random.default_rng(seed).integers(0, rows, size=6))
    return [0, *inner.tolist(), rows]


@pytest.mark.parametrize("id_column", ["ID", None])
def test_the_hashed_split_is_the_same_for_any_partitioning_and_order(id_column: str | None) -> None:
    frame = synthesize(5_000, 11)
    labels = frame[LABEL].to_numpy()
    whole = in_test_part(frame, labels, id_column, test_ratio=0.25, seed=42)
    for seed in (1, 2):
        cuts = _cuts(len(frame), seed)
        parts = [
            in_test_part(frame.iloc[a:b], labels[a:b], id_column, test_ratio=0.25, seed=42)
            for a, b in itertools.pairwise(cuts)
        ]
        assert np.array_equal(np.concatenate(parts), whole)
    shuffled = np.random.default_rng(3).permutation(len(frame))
    reordered = in_test_part(frame.iloc[shuffled], labels[shuffled], id_column, test_ratio=0.25, seed=42)
    assert np.array_equal(reordered, whole[shuffled])
    # And it is the same on every call, another seed gives another split, and each class is near the ratio
    assert np.array_equal(in_test_part(frame, labels, id_column, test_ratio=0.25, seed=42), whole)
    assert not np.array_equal(in_test_part(frame, labels, id_column, test_ratio=0.25, seed=43), whole)
    for label in (0, 1):
        assert whole[labels == label].mean() == pytest.approx(0.25, abs=0.03)


def test_the_hashed_split_of_integer_ids_is_pinned() -> None:
    """Integer IDs hash with splitmix64 alone: the split of a data set never changes with pandas' version."""
    frame = pd.DataFrame({"ID": np.arange(1, 21), LABEL: [0, 1] * 10})
    mask = in_test_part(frame, frame[LABEL].to_numpy(), "ID", test_ratio=0.25, seed=42)
    assert np.flatnonzero(mask).tolist() == [1, 2, 8, 16, 17]


def _write_parts(folder: Path, frame: pd.DataFrame, names: list[str]) -> list[Path]:
    cuts = np.linspace(0, len(frame), len(names) + 1).astype(int)
    return [write_table(frame.iloc[a:b], folder / name) for name, a, b in zip(names, cuts, cuts[1:], strict=False)]


def test_a_folder_digest_is_stable_and_independent_of_the_listing_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    frame = synthesize(300, 2)
    names = ["part-0.parquet", "part-1.parquet", "sub/part-2.parquet"]
    first = _write_parts(tmp_path / "a", frame, names)
    _write_parts(tmp_path / "b", frame, list(reversed(names)))  # the same names, written in another order
    for name in names:
        (tmp_path / "b" / name).write_bytes((tmp_path / "a" / name).read_bytes())
    (tmp_path / "a" / "_SUCCESS").write_text("")  # metadata beside the parts is no part
    (tmp_path / "a" / ".part-0.parquet.crc").write_text("x")

    digest = sha256_parts(tmp_path / "a")
    assert digest == sha256_parts(tmp_path / "a")
    assert digest == sha256_parts(tmp_path / "b")
    assert parquet_parts(tmp_path / "a") == sorted(first)

    # Given a filesystem that lists the parts in reverse, the digest is the same
    listed = Path.rglob
    monkeypatch.setattr(Path, "rglob", lambda self, pattern: sorted(listed(self, pattern), reverse=True))
    assert sha256_parts(tmp_path / "a") == digest
    monkeypatch.undo()

    # A glob of the same parts gives the same digest; a single file keeps its own bytes' digest
    assert sha256_parts(f"{tmp_path / 'a'}/**/*.parquet") == digest
    assert sha256_parts(first[0]) == sha256(first[0])

    # A renamed, changed or added part changes it
    (tmp_path / "b" / "part-1.parquet").rename(tmp_path / "b" / "part-9.parquet")
    assert sha256_parts(tmp_path / "b") != digest
    write_table(frame.iloc[:5], tmp_path / "a" / "part-0.parquet")
    assert sha256_parts(tmp_path / "a") != digest


def test_no_parquet_parts_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    for place in (tmp_path / "empty", tmp_path / "missing", f"{tmp_path}/*.parquet", tmp_path / "data.csv"):
        with pytest.raises(DataError) as raised:
            location.parquet_parts(place)
        assert "\n" not in str(raised.value)
        assert "a .parquet file, a folder of them or a glob" in str(raised.value)


def test_checks_of_partitions_add_up_to_the_checks_of_the_whole_frame() -> None:
    """Every per-row check, with no ID repeated across partitions (the caller checks that across them)."""
    frame = synthesize(3_000, 5)
    frame.loc[[5, 1_500], "LIMIT_BAL"] = -1
    frame.loc[[10, 2_500, 2_501], "EDUCATION"] = 9
    frame.loc[2_999, LABEL] = 2
    frame["BILL_AMT1"] = frame["BILL_AMT1"].astype("float64")
    frame.loc[1_200, "BILL_AMT1"] = 1.5
    frame["AGE"] = frame["AGE"].astype("float64")
    frame.loc[[20, 2_900], "AGE"] = np.nan
    frame.loc[[1_100], "AGE"] = 300.0  # a value check of a mistyped column: reported by neither
    contract = uci()
    whole = check_data(frame, contract)
    assert {failure.check for failure in whole} == {
        "value_range",
        "allowed_codes",
        "label_values",
        "integer_type",
        "missing_values",
    }

    cuts = [0, 700, 700, 1_900, 3_000]
    parts = []
    for a, b in itertools.pairwise(cuts):
        piece = frame.iloc[a:b].reset_index(drop=True)  # each partition numbered from 0, as Dask reads it
        parts.append(check_data(piece, contract, part=Part(first_row=a + 1, whole=_whole(frame))))
    assert merge_failures(parts) == whole


def test_partitions_number_their_rows_from_the_whole_data() -> None:
    frame = synthesize(400, 5).drop(columns="ID")
    frame.loc[[3, 250], "LIMIT_BAL"] = -1
    whole = check_data(frame, uci())
    parts = [
        check_data(frame.iloc[a:b].reset_index(drop=True), uci(), part=Part(a + 1, _whole(frame)))
        for a, b in ((0, 200), (200, 400))
    ]
    assert merge_failures(parts) == whole
    assert ("row 251", "-1") in next(failure for failure in whole if failure.column == "LIMIT_BAL").examples


def _whole(frame: pd.DataFrame) -> frozenset[str]:
    numbers = frame.apply(pd.to_numeric, errors="coerce")
    return frozenset(
        str(name) for name in frame.columns if numbers[name].notna().all() and (numbers[name] % 1 == 0).all()
    )
