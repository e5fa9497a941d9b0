"""The first stages on a Dask cluster (an in-process one here: one worker, two partitions or more): the same
check failures, exact split counts, a bounded seeded evaluation sample and an ordinary LightGBM model."""

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from creditops.compute import training
from creditops.compute.training import LIGHTGBM_ONLY, ClusterStages, parts_with_rows
from creditops.config.modelling import ModellingConfig
from creditops.data.checks import DataCheckError
from creditops.data.contract import uci
from creditops.data.io import write_table
from creditops.data.location import sha256_parts
from creditops.data.schema import LABEL
from creditops.data.split import in_test_part
from creditops.data.synth import synthesize
from creditops.errors import ConfigError, CreditopsError, DataError
from creditops.modelling.serialization import load_model, save_model
from creditops.steps.data_prep import load_checked

distributed = pytest.importorskip("distributed")
CONFIG = ModellingConfig.model_validate({"train": {"n_estimators": 20}})


@pytest.fixture(scope="module")
def client() -> Iterator[object]:
    """One worker thread in this process: LightGBM's network is one per process, so no second worker here."""
    with distributed.Client(processes=False, n_workers=1, threads_per_worker=1, dashboard_address=":0") as client:
        yield client


def _parts(folder: Path, frame: pd.DataFrame, count: int) -> Path:
    for number, rows in enumerate(np.array_split(np.arange(len(frame)), count)):
        write_table(frame.iloc[rows], folder / f"part-{number:02d}.parquet")
    return folder


def test_bad_data_fails_with_the_same_line_as_in_one_process(tmp_path: Path, client: object) -> None:
    frame = synthesize(3_000, 5)
    frame.loc[[5, 1_500], "LIMIT_BAL"] = -1
    frame.loc[[10, 2_500], "EDUCATION"] = 9
    frame.loc[2_999, LABEL] = 2
    frame["PAY_0"] = frame["PAY_0"].astype("float64")  # whole numbers stored as floats: read as integers
    frame["BILL_AMT1"] = frame["BILL_AMT1"].astype("float64")
    frame.loc[1_200, "BILL_AMT1"] = 1.5
    frame["AGE"] = frame["AGE"].astype("float64")
    frame.loc[[20, 2_900], "AGE"] = np.nan
    frame.loc[[2_000, 2_001], "ID"] = frame.loc[3, "ID"]  # IDs repeated across partitions
    frame.loc[101, "ID"] = frame.loc[100, "ID"]  # and within one
    single = write_table(frame, tmp_path / "one.parquet")
    with pytest.raises(DataCheckError) as alone:
        load_checked(single, uci())

    with pytest.raises(DataCheckError) as clustered:
        ClusterStages(client).check(_parts(tmp_path / "parts", frame, 4), uci())

    assert str(clustered.value) == str(alone.value)
    assert "\n" not in str(clustered.value)
    assert {failure.check for failure in clustered.value.failures} >= {"duplicate_ids", "integer_type", "label_values"}


def test_empty_data_fails_not_empty(tmp_path: Path, client: object) -> None:
    write_table(synthesize(10, 1).iloc[:0], tmp_path / "parts" / "part-0.parquet")
    with pytest.raises(DataCheckError, match="not_empty"):
        ClusterStages(client).check(tmp_path / "parts", uci())


def test_the_split_counts_are_exact_and_the_test_rows_are_the_hashed_ones(tmp_path: Path, client: object) -> None:
    frame = synthesize(2_000, 9)
    stages = ClusterStages(client)
    checked = stages.check(_parts(tmp_path / "parts", frame, 3), uci())
    prepared = stages.prep(checked, "parts", CONFIG, uci())

    labels = frame[LABEL].to_numpy()
    expected = in_test_part(frame, labels, "ID", test_ratio=0.25, seed=CONFIG.data.random_seed)
    manifest = prepared.manifest
    assert (manifest.rows, manifest.test_rows, manifest.train_rows) == (2_000, expected.sum(), (~expected).sum())
    assert manifest.default_rate == round(labels.mean(), 6)
    assert manifest.data_sha256 == checked.digest
    pd.testing.assert_frame_equal(prepared.test, frame[expected].reset_index(drop=True))
    assert prepared.evaluated_on == f"all {expected.sum():,} rows of the test split, collected from the cluster"


def test_the_evaluation_sample_is_bounded_seeded_and_independent_of_the_partitions(
    tmp_path: Path, client: object
) -> None:
    frame = synthesize(4_000, 3)
    samples = []
    for count in (2, 5):
        stages = ClusterStages(client, eval_rows=300)
        checked = stages.check(_parts(tmp_path / f"parts-{count}", frame, count), uci())
        prepared = stages.prep(checked, "parts", CONFIG, uci())
        samples.append(prepared.test.sort_values("ID").reset_index(drop=True))
        assert prepared.evaluated_on is not None
        assert prepared.evaluated_on.startswith(f"a seeded sample of 300 of the {prepared.manifest.test_rows:,} rows")
    assert len(samples[0]) == 300
    pd.testing.assert_frame_equal(samples[0], samples[1])
    test_ids = frame.loc[in_test_part(frame, frame[LABEL].to_numpy(), "ID", test_ratio=0.25, seed=42), "ID"]
    assert set(samples[0]["ID"]) <= set(test_ids)
    assert 0.1 < samples[0][LABEL].mean() < 0.35


def test_training_gives_an_ordinary_lightgbm_model(tmp_path: Path, client: object) -> None:
    frame = synthesize(2_000, 4)
    stages = ClusterStages(client)
    prepared = stages.prep(stages.check(_parts(tmp_path / "parts", frame, 2), uci()), "parts", CONFIG, uci())
    trained = stages.train(prepared, CONFIG, "abc1234", uci())

    model = trained.model
    assert model.algorithm == "lightgbm"
    assert type(model.estimator).__name__ == "Booster"
    assert model.estimator.feature_name() == list(uci().features)
    assert model.estimator.num_trees() == 20
    assert trained.manifest.train_rows == prepared.manifest.train_rows
    assert trained.manifest.params["n_estimators"] == 20
    probability = model.predict_proba(prepared.test)
    assert ((probability > 0) & (probability < 1)).all()
    # It is saved and read back as any LightGBM model
    path = save_model(model, tmp_path / "model.txt")
    again = load_model(path, uci())
    assert np.allclose(again.predict_proba(prepared.test), probability)


def test_other_learners_are_refused(tmp_path: Path, client: object) -> None:
    stages = ClusterStages(client)
    frame = synthesize(500, 4)
    prepared = stages.prep(stages.check(_parts(tmp_path / "parts", frame, 2), uci()), "parts", CONFIG, uci())
    other = ModellingConfig.model_validate({"train": {"algorithm": "sklearn_gbm"}})
    with pytest.raises(ConfigError, match=LIGHTGBM_ONLY):
        stages.train(prepared, other, "abc1234", uci())


def test_too_little_data_is_refused_as_in_one_process(tmp_path: Path, client: object) -> None:
    frame = synthesize(6, 1)
    single = write_table(frame, tmp_path / "one.parquet")
    from creditops.steps.data_prep import prepare

    with pytest.raises(DataError) as alone:
        prepare(*load_checked(single, uci()), str(single), CONFIG, uci())
    stages = ClusterStages(client)
    with pytest.raises(DataError) as clustered:
        stages.prep(stages.check(_parts(tmp_path / "parts", frame, 2), uci()), str(single), CONFIG, uci())
    assert str(clustered.value) == str(alone.value)


def test_parts_are_checked_by_their_footers_and_empty_ones_left_out(tmp_path: Path) -> None:
    frame = synthesize(300, 6)
    folder = _parts(tmp_path / "parts", frame, 2)
    write_table(frame.iloc[:0], folder / "part-09.parquet")
    assert parts_with_rows(folder, uci()) == [folder / "part-00.parquet", folder / "part-01.parquet"]
    empty = tmp_path / "empty"
    write_table(frame.iloc[:0], empty / "part-0.parquet")
    write_table(frame.iloc[:0], empty / "part-1.parquet")
    assert parts_with_rows(empty, uci()) == [empty / "part-0.parquet"]  # kept for the not_empty check
    (folder / "part-02.parquet").write_bytes(b"not parquet")
    with pytest.raises(DataError, match=r"^cannot read .*part-02\.parquet: ") as raised:
        parts_with_rows(folder, uci())
    assert "\n" not in str(raised.value)
    (folder / "part-02.parquet").unlink()
    write_table(frame.drop(columns="PAY_0"), folder / "part-03.parquet")
    with pytest.raises(DataError, match=r"part-03\.parquet lacks the feature column\(s\) PAY_0$"):
        parts_with_rows(folder, uci())


def test_an_empty_part_beside_others_adds_no_rows_and_stays_in_the_digest(tmp_path: Path, client: object) -> None:
    frame = synthesize(1_000, 8)
    folder = _parts(tmp_path / "parts", frame, 2)
    write_table(frame.iloc[:0], folder / "part-05.parquet")
    checked = ClusterStages(client).check(folder, uci())
    assert checked.rows == 1_000
    assert checked.digest == sha256_parts(folder)
    assert checked.digest != sha256_parts(folder / "part-0[01].parquet")  # the empty part is part of the data


def test_a_failure_on_the_cluster_is_one_line_naming_the_stage(
    tmp_path: Path, client: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    def lost(frame: pd.DataFrame) -> None:
        raise ValueError("Input data must be 2 dimensional and non empty\nand a second line")

    monkeypatch.setattr(training, "_profile", lost)
    with pytest.raises(CreditopsError) as raised:
        ClusterStages(client).check(_parts(tmp_path / "parts", synthesize(200, 2), 2), uci())
    said = "check data failed on the cluster: ValueError: Input data must be 2 dimensional and non empty"
    assert str(raised.value) == said


@pytest.mark.parametrize(
    ("trouble", "said"),
    [
        ("column", "lacks the feature column(s) PAY_0"),
        ("not parquet", "cannot read parts/part-01.parquet: "),
    ],
)
def test_the_command_refuses_a_bad_part_in_one_line_before_the_cluster_starts(
    tmp_path: Path,
    workspace: Path,
    trouble: str,
    said: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from creditops.cli import main
    from creditops.compute import cluster

    frame = synthesize(200, 2)
    folder = _parts(tmp_path / "parts", frame, 2)
    if trouble == "column":
        write_table(frame.drop(columns="PAY_0"), folder / "part-01.parquet")
    else:
        (folder / "part-01.parquet").write_bytes(b"nope")
    monkeypatch.setattr(cluster, "local_cluster", None)  # a cluster started would fail otherwise
    assert main(["run", "--data", "parts", "--cluster", "local:2", "--quiet", "--no-logging"]) == 1
    captured = capsys.readouterr()
    assert said in captured.err
    assert captured.err.count("\n") == 1, captured.err
    assert captured.out == ""


def test_lightgbm_says_nothing_here_while_the_cluster_trains(
    tmp_path: Path, client: object, capfd: pytest.CaptureFixture[str]
) -> None:
    import lightgbm.basic

    logger = lightgbm.basic._LOGGER
    stages = ClusterStages(client)
    prepared = stages.prep(stages.check(_parts(tmp_path / "parts", synthesize(600, 4), 2), uci()), "p", CONFIG, uci())
    capfd.readouterr()
    stages.train(prepared, CONFIG, "abc1234", uci())
    assert "Finding random open ports" not in capfd.readouterr().out
    assert lightgbm.basic._LOGGER is logger  # as it was, after
