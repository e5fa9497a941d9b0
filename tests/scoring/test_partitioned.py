"""Partitioned scoring without a cluster: the same reader, checks and scoring step as `score_file`, every row
accounted for, the output folder whole or absent, and the inputs and outputs it refuses."""

import re
from collections.abc import Iterator, Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from creditops.data.contract import uci
from creditops.data.schema import ID_COLUMN
from creditops.errors import CreditopsError, DataError
from creditops.modelling.estimators import TrainedModel
from creditops.scoring.batch import score_file
from creditops.scoring.partitioned import (
    Piece,
    PieceResult,
    ShippedModel,
    in_process,
    parquet_inputs,
    plan,
    score_partitioned,
)
from creditops.serving.model import LoadedModel

FILES = 4


def write_parts(frame: pd.DataFrame, folder: Path, files: int = FILES, row_group: int = 200) -> Path:
    """`frame` split into `files` Parquet files (row groups of `row_group` rows) in `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    size = -(-len(frame) // files)
    for number in range(files):
        frame.iloc[number * size : (number + 1) * size].to_parquet(
            folder / f"portfolio-{number}.parquet", row_group_size=row_group, index=False
        )
    return folder


def scored_folder(folder: Path) -> pd.DataFrame:
    return pd.concat([pd.read_parquet(part) for part in sorted(folder.glob("part-*.parquet"))], ignore_index=True)


@pytest.mark.parametrize("explain", [0, 2])
def test_partitions_score_exactly_as_the_single_process_command(
    tmp_path: Path, loaded: LoadedModel, portfolio: pd.DataFrame, explain: int
) -> None:
    # given the same rows as one file and as four files of row groups of 200 rows
    single = score_file(
        loaded, _whole(portfolio, tmp_path / "whole.parquet"), tmp_path / "single.parquet", explain=explain
    )
    inputs = parquet_inputs(write_parts(portfolio, tmp_path / "in"), tmp_path / "out")
    pieces = plan(inputs, loaded.model.contract, 300)
    seen: list[tuple[int, int]] = []
    # when the partitions are scored one by one
    result = score_partitioned(
        loaded,
        pieces,
        tmp_path / "out",
        in_process(loaded, chunk_rows=150, explain=explain),
        explain=explain,
        progress=lambda rows, total: seen.append((rows, total)),
    )
    # then each file's row groups are 200+200+100 rows: two partitions of at most 300 rows
    assert [piece.rows for piece in pieces] == [200, 300] * FILES
    assert seen[-1] == (2000, 2000)
    assert len(seen) == len(pieces)
    assert (result.rows, result.scored, result.invalid) == (single.rows, single.scored, single.invalid)
    assert result.default_rate == pytest.approx(single.default_rate, abs=1e-15)
    parts = sorted(path.name for path in (tmp_path / "out").iterdir())
    assert parts == [f"part-{number:05d}.parquet" for number in range(len(pieces))]
    expected = pd.read_parquet(single.output)
    got = scored_folder(tmp_path / "out")
    read_whole = pd.read_parquet(tmp_path / "out")  # the folder read as one dataset, as readers will
    pd.testing.assert_frame_equal(
        read_whole.astype({"model_name": str, "model_version": str}),
        got.astype({"model_name": str, "model_version": str}),
    )
    assert list(got.columns) == list(expected.columns)
    np.testing.assert_allclose(got["probability"], expected["probability"], rtol=0, atol=1e-12)
    pd.testing.assert_frame_equal(got.drop(columns="probability"), expected.drop(columns="probability"))
    assert result.invalid_output == tmp_path / "out.invalid.csv"
    pd.testing.assert_frame_equal(pd.read_csv(result.invalid_output), pd.read_csv(single.invalid_output))


def _whole(frame: pd.DataFrame, path: Path) -> Path:
    frame.to_parquet(path, index=False)
    return path


def test_rows_without_ids_are_numbered_across_the_files_as_one_file_would_be(
    tmp_path: Path, loaded: LoadedModel, small_frame: pd.DataFrame
) -> None:
    plain = small_frame.drop(columns=[ID_COLUMN])
    inputs = parquet_inputs(write_parts(plain, tmp_path / "in"), tmp_path / "out")
    pieces = plan(inputs, loaded.model.contract, 250)
    score_partitioned(loaded, pieces, tmp_path / "out", in_process(loaded, chunk_rows=100))
    assert scored_folder(tmp_path / "out")[ID_COLUMN].tolist() == list(range(len(plain)))


def test_a_partition_that_loses_a_row_fails_in_one_line_and_writes_nothing(
    tmp_path: Path, loaded: LoadedModel, portfolio: pd.DataFrame
) -> None:
    inputs = parquet_inputs(write_parts(portfolio, tmp_path / "in"), tmp_path / "out")
    pieces = plan(inputs, loaded.model.contract, 1000)
    scoring = in_process(loaded, chunk_rows=1000)

    def losing(sent: Sequence[Piece]) -> Iterator[PieceResult]:
        for result in scoring(sent):
            yield replace(result, table=result.table.slice(1)) if result.index == 2 else result

    with pytest.raises(CreditopsError, match=r"partition 2 \(.*portfolio-2\.parquet, row groups 0-2\) has 500 rows"):
        score_partitioned(loaded, pieces, tmp_path / "out", losing)
    assert sorted(path.name for path in tmp_path.iterdir()) == ["in"]  # no output, no staging, no invalid rows


def test_a_failure_midway_keeps_the_previous_output_and_leaves_no_staging(
    tmp_path: Path, loaded: LoadedModel, portfolio: pd.DataFrame
) -> None:
    inputs = parquet_inputs(write_parts(portfolio, tmp_path / "in"), tmp_path / "out")
    pieces = plan(inputs, loaded.model.contract, 1000)
    score_partitioned(loaded, pieces, tmp_path / "out", in_process(loaded, chunk_rows=1000))
    before = scored_folder(tmp_path / "out")

    def interrupted(sent: Sequence[Piece]) -> Iterator[PieceResult]:
        results = in_process(loaded, chunk_rows=1000)(sent)
        yield next(results)
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        score_partitioned(loaded, pieces, tmp_path / "out", interrupted)
    pd.testing.assert_frame_equal(scored_folder(tmp_path / "out"), before)
    assert sorted(path.name for path in tmp_path.iterdir()) == ["in", "out", "out.invalid.csv"]


def test_a_runner_that_returns_fewer_partitions_than_it_was_given_is_refused(
    tmp_path: Path, loaded: LoadedModel, portfolio: pd.DataFrame
) -> None:
    inputs = parquet_inputs(write_parts(portfolio, tmp_path / "in"), tmp_path / "out")
    pieces = plan(inputs, loaded.model.contract, 1000)
    scoring = in_process(loaded, chunk_rows=1000)
    with pytest.raises(CreditopsError, match="4 partitions were sent out but 3 came back scored"):
        score_partitioned(loaded, pieces, tmp_path / "out", lambda sent: scoring(sent[:3]))
    assert not (tmp_path / "out").exists()


def test_a_glob_and_a_single_file_are_inputs_too(tmp_path: Path, portfolio: pd.DataFrame) -> None:
    folder = write_parts(portfolio, tmp_path / "in")
    (folder / "_metadata").write_text("not data")
    (folder / "notes.csv").write_text("a,b\n")
    assert [path.name for path in parquet_inputs(folder, tmp_path / "out").files] == [
        f"portfolio-{number}.parquet" for number in range(FILES)
    ]
    globbed = parquet_inputs(Path(f"{folder}/portfolio-[12].parquet"), tmp_path / "out")
    assert [path.name for path in globbed.files] == ["portfolio-1.parquet", "portfolio-2.parquet"]
    assert parquet_inputs(folder / "portfolio-0.parquet", tmp_path / "out").files == (folder / "portfolio-0.parquet",)


@pytest.mark.parametrize(
    ("data", "output", "message"),
    [
        ("in/portfolio.csv", "out", "in/portfolio.csv is not Parquet: on a cluster creditops reads Parquet files"),
        ("empty", "out", "no Parquet files in {tmp}/empty"),
        ("in/*.parq", "out", "no Parquet files in {tmp}/in/*.parq"),
        ("absent", "out", "data not found: {tmp}/absent"),
        ("in", "taken.parquet", "the output {tmp}/taken.parquet is a file: on a cluster the output is a folder"),
        ("in", "in/scored", "the output {tmp}/in/scored is inside the input folder {tmp}/in"),
        ("in", "scored.csv", "the output {tmp}/scored.csv names a .csv file: on a cluster the output is a folder"),
        ("in/*.parquet", "in", "the output's parts {tmp}/in/part-*.parquet would match the input"),
        ("in/portfolio-0.parquet", ".", "the input {tmp}/in/portfolio-0.parquet is inside the output {tmp}, which"),
        ("in/portfolio-0.parquet", "busy", "the output {tmp}/busy is a folder holding other files than scored parts"),
    ],
)
def test_inputs_and_outputs_that_cannot_be_scored_on_a_cluster_are_one_line(
    tmp_path: Path, portfolio: pd.DataFrame, data: str, output: str, message: str
) -> None:
    write_parts(portfolio, tmp_path / "in")
    portfolio.head(10).to_csv(tmp_path / "in" / "portfolio.csv", index=False)
    (tmp_path / "empty").mkdir()
    (tmp_path / "taken.parquet").write_bytes(b"")
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "thesis.docx").write_bytes(b"")
    with pytest.raises(DataError, match=re.escape(message.format(tmp=tmp_path))) as raised:
        parquet_inputs(tmp_path / data, tmp_path / output)
    assert "\n" not in str(raised.value)


def test_a_missing_column_is_the_contracts_one_line_before_anything_is_scored(
    tmp_path: Path, loaded: LoadedModel, portfolio: pd.DataFrame
) -> None:
    write_parts(portfolio, tmp_path / "in")
    portfolio.drop(columns=["PAY_0"]).to_parquet(tmp_path / "in" / "portfolio-9.parquet")
    inputs = parquet_inputs(tmp_path / "in", tmp_path / "out")
    with pytest.raises(DataError, match=r"portfolio-9\.parquet lacks the feature column\(s\) PAY_0$"):
        plan(inputs, loaded.model.contract, 1000)


def test_a_shipped_model_loads_to_the_same_scores_without_the_store(
    loaded: LoadedModel, small_frame: pd.DataFrame
) -> None:
    shipped = ShippedModel.of(loaded)
    assert shipped.model_file.startswith(b"tree\n")  # LightGBM's text model: no pickle travels
    again = shipped.load()
    assert (again.name, again.version, again.uri, again.threshold) == ("credit_default_model", "7", loaded.uri, 0.4)
    assert again.model.contract == loaded.model.contract
    features = uci().feature_matrix(small_frame)
    np.testing.assert_array_equal(again.model.predict_proba(features), loaded.model.predict_proba(features))
    assert ShippedModel.of(again).digest == shipped.digest
    assert replace(shipped, model_file=shipped.model_file + b"\n").digest != shipped.digest


def test_a_partition_whose_rows_are_all_refused_is_an_empty_part_even_for_scikit_learn(
    tmp_path: Path, small_sklearn_model: TrainedModel, small_frame: pd.DataFrame
) -> None:
    scoring = LoadedModel(small_sklearn_model, "m", "1", "models:/m/1")
    frame = small_frame.head(400).copy()
    frame.loc[200:, "SEX"] = 9  # the second file: nothing valid
    inputs = parquet_inputs(write_parts(frame, tmp_path / "in", files=2), tmp_path / "out")
    pieces = plan(inputs, scoring.model.contract, 1000)
    result = score_partitioned(
        scoring, pieces, tmp_path / "out", in_process(scoring, chunk_rows=1000, explain=1), explain=1
    )
    assert (result.scored, result.invalid) == (200, 200)
    assert len(pd.read_parquet(tmp_path / "out" / "part-00001.parquet")) == 0
    assert list(pd.read_parquet(tmp_path / "out" / "part-00001.parquet").columns)[-1] == "reasons"
