"""The seeded, stratified split: the same rows as scikit-learn splitting the frame itself, in index order, and
only of data with rows enough of each class for both parts."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.model_selection import train_test_split

from creditops.cli import main
from creditops.data.io import write_table
from creditops.data.schema import LABEL
from creditops.data.split import rows_per_class, split
from creditops.data.synth import synthesize
from creditops.errors import DataError


@pytest.mark.parametrize("order", ["range", "reversed", "shuffled"])
def test_the_split_is_scikit_learns_on_the_frame_sorted_by_index(small_frame: pd.DataFrame, order: str) -> None:
    frame = {
        "range": small_frame,
        "reversed": small_frame.iloc[::-1],
        "shuffled": small_frame.set_axis(np.random.default_rng(1).permutation(len(small_frame))),
    }[order]
    train, test = split(frame, frame[LABEL].to_numpy(), test_ratio=0.25, seed=7)
    expected = train_test_split(frame, test_size=0.25, random_state=7, stratify=frame[LABEL])
    pd.testing.assert_frame_equal(train, expected[0].sort_index())
    pd.testing.assert_frame_equal(test, expected[1].sort_index())
    assert abs(train[LABEL].mean() - test[LABEL].mean()) < 0.02


@pytest.mark.parametrize(("rows", "seed"), [*((rows, 1) for rows in range(1, 8)), (8, 1), (9, 3), (10, 4)])
def test_tiny_data_is_refused_naming_the_rows_needed_and_why(rows: int, seed: int) -> None:
    frame = synthesize(rows, seed)
    defaults = int(frame[LABEL].sum())
    with pytest.raises(DataError) as raised:
        split(frame, frame[LABEL].to_numpy(), test_ratio=0.25, seed=42, source="t.csv")
    assert str(raised.value) == (
        f"t.csv has {rows} rows ({defaults} default(s), {rows - defaults} non-default(s)): training needs at least"
        " 4 rows of each class (8 in all) so that the stratified split (test_train_ratio 0.25) puts both classes in its"
        " training and its test part; use more data"
    )


@pytest.mark.parametrize(("ratio", "needed"), [(0.25, 4), (0.1, 10), (0.5, 4), (0.75, 8), (0.9, 20), (1 / 3, 3)])
def test_the_fewest_rows_per_class_follow_the_ratio(ratio: float, needed: int) -> None:
    assert rows_per_class(ratio) == needed


@settings(max_examples=200, deadline=None)
@given(
    st.sampled_from([0.05, 0.1, 0.2, 0.25, 1 / 3, 0.5, 0.6, 0.75, 0.9]),
    st.integers(0, 40),
    st.integers(0, 400),
    st.integers(0, 2**16),
)
def test_with_the_rows_needed_both_parts_hold_both_classes(ratio: float, extra: int, more: int, seed: int) -> None:
    needed = rows_per_class(ratio)
    labels = np.array([1] * (needed + extra) + [0] * (needed + more))
    frame = pd.DataFrame({LABEL: np.random.default_rng(seed).permutation(labels)})
    train, test = split(frame, frame[LABEL].to_numpy(), test_ratio=ratio, seed=seed)
    assert set(train[LABEL]) == set(test[LABEL]) == {0, 1}


def test_one_row_fewer_of_a_class_is_refused() -> None:
    frame = pd.DataFrame({LABEL: [1] * 3 + [0] * 100})
    with pytest.raises(
        DataError, match=r"has 103 rows \(3 default\(s\), 100 non-default\(s\)\): training needs at least 4"
    ):
        split(frame, frame[LABEL].to_numpy(), test_ratio=0.25, seed=1)


@pytest.mark.parametrize("command", [["run", "--no-logging", "--data"], ["run", "--data"], ["data", "check"]])
def test_the_commands_refuse_tiny_data_in_one_line(
    workspace: Path, tmp_path: Path, command: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    data = write_table(synthesize(8, 1), tmp_path / "t.csv")
    assert main([*command, str(data)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert f"{data} has 8 rows (5 default(s), 3 non-default(s)): training needs at least 4 rows of each class" in err
    assert not (workspace / "mlflow.db").exists()


def test_data_check_takes_the_ratio_from_the_config(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = write_table(synthesize(40, 1), tmp_path / "t.csv")
    config = tmp_path / "modelling.json"
    config.write_text(json.dumps({"data": {"test_train_ratio": 0.02}}))
    assert main(["data", "check", str(data)]) == 0
    assert main(["data", "check", str(data), "--config", str(config)]) == 1
    assert "at least 50 rows of each class (100 in all)" in capsys.readouterr().err
