"""Batch scoring: chunked file to file, the same checks as the service, invalid rows kept aside with reasons."""

import re
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest

from creditops.cli import main
from creditops.context import Context
from creditops.data.contract import uci
from creditops.data.io import write_table
from creditops.data.schema import FEATURES, ID_COLUMN
from creditops.errors import DataError
from creditops.modelling.estimators import TrainedModel
from creditops.scoring.batch import score_file
from creditops.serving.model import LoadedModel
from creditops.tracking.registry import save_model_dir


@pytest.mark.parametrize(("source", "target"), [("in.parquet", "out.parquet"), ("in.csv", "out.csv")])
def test_every_valid_row_is_scored_in_chunks_and_invalid_rows_are_set_aside(
    tmp_path: Path, loaded: LoadedModel, portfolio: pd.DataFrame, source: str, target: str
) -> None:
    data = write_table(portfolio, tmp_path / source)
    seen: list[int] = []
    result = score_file(loaded, data, tmp_path / target, chunk_rows=700, progress=seen.append)
    assert seen == [700, 1400, 2000]
    assert (result.rows, result.scored, result.invalid) == (2000, 1998, 2)
    scored = pd.read_parquet(result.output) if target.endswith(".parquet") else pd.read_csv(result.output)
    valid = portfolio.drop(index=[3, 1500])
    assert scored[ID_COLUMN].tolist() == valid[ID_COLUMN].tolist()
    expected = loaded.model.predict_proba(uci().feature_matrix(valid))
    np.testing.assert_allclose(scored["probability"].to_numpy(), expected)
    assert scored["class"].tolist() == (expected >= 0.4).astype(int).tolist()
    assert set(scored["model_version"].astype(str)) == {"7"}
    assert result.default_rate == pytest.approx((expected >= 0.4).mean())
    invalid = pd.read_csv(result.invalid_output)
    assert invalid[ID_COLUMN].tolist() == portfolio.loc[[3, 1500], ID_COLUMN].tolist()
    assert invalid["reasons"].tolist() == ["SEX: 9 is not an allowed code (1..2)", "AGE: 7 is outside 18..120"]


def test_a_file_without_ids_is_numbered_and_a_clean_run_leaves_no_invalid_file(
    tmp_path: Path, loaded: LoadedModel, small_frame: pd.DataFrame
) -> None:
    data = write_table(small_frame.drop(columns=[ID_COLUMN]).head(50), tmp_path / "plain.csv")
    (tmp_path / "out.invalid.csv").write_text("stale")
    result = score_file(loaded, data, tmp_path / "out.parquet")
    assert pd.read_parquet(result.output)[ID_COLUMN].tolist() == list(range(50))
    assert result.invalid_output is None
    assert not (tmp_path / "out.invalid.csv").exists()


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (
            lambda frame, path: write_table(frame.drop(columns=["PAY_0"]), path / "x.csv"),
            "lacks the feature column(s) PAY_0",
        ),
        (lambda frame, path: path / "absent.parquet", "data file not found"),
    ],
)
def test_bad_inputs_are_one_line_errors_and_write_nothing(
    tmp_path: Path, loaded: LoadedModel, small_frame: pd.DataFrame, make, message: str
) -> None:
    source = make(small_frame, tmp_path)
    with pytest.raises(DataError, match=re.escape(message)):
        score_file(loaded, source, tmp_path / "out.parquet")
    assert not (tmp_path / "out.parquet").exists()


def test_the_output_must_be_parquet_or_csv_and_not_the_input(tmp_path: Path, loaded: LoadedModel, small_frame) -> None:
    data = write_table(small_frame, tmp_path / "in.parquet")
    with pytest.raises(DataError, match=r"ending in \.parquet or \.csv"):
        score_file(loaded, data, tmp_path / "out.json")
    with pytest.raises(DataError, match="is the input"):
        score_file(loaded, data, data)


@pytest.mark.parametrize(
    ("data", "output", "clash"),
    [
        ("X.invalid.csv", "X.csv", "the invalid-rows file {folder}/X.invalid.csv is the input"),
        ("X.invalid.csv", "./sub/../X.parquet", "the invalid-rows file {folder}/sub/../X.invalid.csv is the input"),
        ("X.csv", "X.csv", "the output {folder}/X.csv is the input"),
    ],
)
def test_scoring_never_writes_over_its_input(
    tmp_path: Path, loaded: LoadedModel, portfolio: pd.DataFrame, data: str, output: str, clash: str
) -> None:
    (tmp_path / "sub").mkdir()
    source = write_table(portfolio, tmp_path / data)
    before = source.read_bytes()
    with pytest.raises(DataError, match=re.escape(clash.format(folder=tmp_path))) as raised:
        score_file(loaded, source, tmp_path / output)
    assert "choose another --output" in str(raised.value)
    assert source.read_bytes() == before


def test_an_input_reached_through_a_link_is_still_the_input(
    tmp_path: Path, loaded: LoadedModel, portfolio: pd.DataFrame
) -> None:
    source = write_table(portfolio, tmp_path / "X.invalid.csv")
    (tmp_path / "linked.invalid.csv").hardlink_to(source)
    with pytest.raises(DataError, match=r"invalid-rows file .*linked\.invalid\.csv is the input"):
        score_file(loaded, source, tmp_path / "linked.csv")


def test_the_command_refuses_the_clash_before_it_loads_a_model(
    workspace: Path, tmp_path: Path, portfolio: pd.DataFrame, capsys: pytest.CaptureFixture[str]
) -> None:
    source = write_table(portfolio, tmp_path / "X.invalid.csv")
    argv = ["score", "--model", "models:/none/1", "--data", str(source), "--output", str(tmp_path / "X.csv")]
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert "is the input" in err
    assert "choose another --output" in err
    assert err.count("\n") == 1


@pytest.mark.e2e
def test_the_command_scores_a_file_and_records_the_batch(
    context: Context, tmp_path: Path, small_model: TrainedModel, portfolio: pd.DataFrame, capsys
) -> None:
    folder = save_model_dir(small_model, tmp_path / "model")
    data = write_table(portfolio, tmp_path / "portfolio.parquet")
    out = tmp_path / "scored.parquet"
    argv = ["score", "--model", str(folder), "--data", str(data), "--output", str(out), "--chunk-rows", "1000"]
    assert main(argv) == 0
    said = capsys.readouterr().out
    assert "scored 1,998 of 2,000 rows" in said
    assert "2 invalid rows not scored" in said
    assert len(pd.read_parquet(out)) == 1998
    runs = mlflow.MlflowClient(context.store_uri).search_runs(
        [mlflow.MlflowClient(context.store_uri).get_experiment_by_name("creditops").experiment_id]
    )
    batch = next(run for run in runs if run.data.tags.get("creditops.kind") == "batch-score")
    assert batch.data.metrics["batch.invalid_rows"] == 2
    assert batch.data.params["batch.input"] == str(data)
    assert FEATURES  # the schema the command checked against


def test_explain_gives_each_scored_row_its_reasons(
    tmp_path: Path, loaded: LoadedModel, portfolio: pd.DataFrame
) -> None:
    data = write_table(portfolio.head(300), tmp_path / "in.parquet")
    result = score_file(loaded, data, tmp_path / "out.parquet", explain=2)
    scored = pd.read_parquet(result.output)
    assert len(scored) == 299
    given = scored["reasons"][scored["reasons"] != ""]  # empty where nothing raised the risk
    assert len(given) > 100
    assert given.str.match(r"^R0\d ").all()
    assert (given.str.count(r" \| ") <= 1).all()


def test_scoring_a_file_with_nothing_or_a_feature_named_twice_is_one_line(
    small_model: TrainedModel, tmp_path: Path
) -> None:
    from creditops.errors import DataError

    scoring = LoadedModel(small_model, "m", "1", "models:/m/1")
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(DataError, match="it is empty"):
        score_file(scoring, tmp_path / "empty.csv", tmp_path / "out.csv")
    (tmp_path / "twice.csv").write_text("PAY_0,PAY_0\n1,2\n")
    with pytest.raises(DataError, match="'PAY_0' twice"):
        score_file(scoring, tmp_path / "twice.csv", tmp_path / "out.csv")
    assert not (tmp_path / "out.csv").exists()


def test_chunks_scored_on_several_threads_are_written_in_order(
    tmp_path: Path, loaded: LoadedModel, portfolio: pd.DataFrame, monkeypatch: pytest.MonkeyPatch
) -> None:
    from creditops.scoring import batch

    monkeypatch.setattr(batch, "SCORING_ROWS", 300)  # caps --chunk-rows in one process
    data = write_table(portfolio, tmp_path / "in.parquet")
    seen: list[int] = []
    result = score_file(loaded, data, tmp_path / "out.parquet", chunk_rows=700, threads=3, progress=seen.append)
    assert seen == [300, 600, 900, 1200, 1500, 1800, 2000]
    assert (result.rows, result.scored, result.invalid) == (2000, 1998, 2)
    scored = pd.read_parquet(result.output)
    valid = portfolio.drop(index=[3, 1500])
    assert scored[ID_COLUMN].tolist() == valid[ID_COLUMN].tolist()
    expected = loaded.model.predict_proba(uci().feature_matrix(valid))
    np.testing.assert_allclose(scored["probability"].to_numpy(), expected)


def test_only_the_repeated_columns_are_dictionary_encoded(tmp_path: Path, loaded: LoadedModel, small_frame) -> None:
    import pyarrow.parquet as pq

    data = write_table(small_frame.head(300), tmp_path / "in.parquet")
    result = score_file(loaded, data, tmp_path / "out.parquet", explain=1)
    columns = pq.ParquetFile(result.output).metadata.row_group(0)
    encodings = {columns.column(i).path_in_schema: columns.column(i).encodings for i in range(columns.num_columns)}
    assert all("RLE_DICTIONARY" in encodings[name] for name in ("model_name", "model_version", "reasons"))
    assert not any("RLE_DICTIONARY" in encodings[name] for name in (ID_COLUMN, "probability", "class"))


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_an_empty_or_text_id_among_whole_numbers_is_refused_and_the_ids_keep_their_type(
    tmp_path: Path, loaded: LoadedModel, small_frame: pd.DataFrame, suffix: str
) -> None:
    frame = small_frame.copy()
    frame[ID_COLUMN] = frame[ID_COLUMN].astype("object")
    frame.loc[1200, ID_COLUMN] = None  # in the second chunk of 1,000 rows
    if suffix == ".csv":
        frame.loc[1700, ID_COLUMN] = "X1701"
    else:
        frame[ID_COLUMN] = frame[ID_COLUMN].astype("Int64")
    data = tmp_path / f"in{suffix}"
    frame.to_csv(data, index=False) if suffix == ".csv" else frame.to_parquet(data, index=False)
    result = score_file(loaded, data, tmp_path / "out.parquet", chunk_rows=1_000)
    refused = pd.read_csv(result.invalid_output)
    expected = 2 if suffix == ".csv" else 1
    assert (result.rows, result.invalid) == (len(frame), expected)
    assert refused["reasons"].str.startswith(f"{ID_COLUMN}: missing or not a whole number").all()
    scored = pd.read_parquet(result.output)
    assert scored[ID_COLUMN].dtype == np.int64
    assert scored[ID_COLUMN].iloc[1200] == small_frame[ID_COLUMN].iloc[1201]  # the row after the empty ID


def test_a_damaged_row_group_is_one_line_and_leaves_the_last_output_and_its_invalid_rows(
    tmp_path: Path, loaded: LoadedModel, portfolio: pd.DataFrame
) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    good = tmp_path / "good.parquet"
    pq.write_table(pa.Table.from_pandas(portfolio, preserve_index=False), good, row_group_size=500)
    before = score_file(loaded, good, tmp_path / "out.parquet")
    damaged = bytearray(good.read_bytes())
    chunk = pq.ParquetFile(good).metadata.row_group(2).column(5)
    middle = chunk.dictionary_page_offset or chunk.data_page_offset
    damaged[middle : middle + 64] = bytes(64)  # a page of the third row group, the footer intact
    (tmp_path / "bad.parquet").write_bytes(bytes(damaged))
    assert pq.ParquetFile(tmp_path / "bad.parquet").metadata.num_row_groups == 4  # it opens: reading fails
    with pytest.raises(DataError, match=r"^cannot read .*bad\.parquet: \S"):
        score_file(loaded, tmp_path / "bad.parquet", tmp_path / "out.parquet")
    assert len(pd.read_parquet(before.output)) == before.scored  # the last run's output and its pair stay
    assert len(pd.read_csv(before.invalid_output)) == before.invalid == 2
    assert sorted(path.name for path in tmp_path.iterdir()) == [
        "bad.parquet",
        "good.parquet",
        "out.invalid.csv",
        "out.parquet",
    ]


def test_text_ids_stay_text_and_an_empty_one_is_refused(
    tmp_path: Path, loaded: LoadedModel, small_frame: pd.DataFrame
) -> None:
    frame = small_frame.head(1_500).copy()
    frame[ID_COLUMN] = "C" + frame[ID_COLUMN].astype(str)
    frame.loc[1_200, ID_COLUMN] = None  # in the second chunk: its IDs must stay text
    data = tmp_path / "in.csv"
    frame.to_csv(data, index=False)
    result = score_file(loaded, data, tmp_path / "out.parquet", chunk_rows=1_000)
    assert pd.read_csv(result.invalid_output)["reasons"].tolist() == [f"{ID_COLUMN}: missing"]
    scored = pd.read_parquet(result.output)
    assert len(scored) == 1_499
    assert scored[ID_COLUMN].str.startswith("C").all()
