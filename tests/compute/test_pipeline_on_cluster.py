"""`creditops run --cluster`: the real CLI on a folder of Parquet parts, on a local cluster of two worker
processes and on a scheduler and two workers started as separate processes; its model is as good as one
trained in one process on the same rows, and is served and scored like any other."""

import json
import os
import subprocess  # nosec B404
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from creditops.cli import main
from creditops.context import from_process
from creditops.data.contract import uci
from creditops.data.io import read_table, write_table
from creditops.data.synth import synthesize
from creditops.tracking.registry import Registry

pytestmark = pytest.mark.e2e
distributed = pytest.importorskip("distributed")

ROWS = 4_000
NAME = "credit_default_model"
BIN = Path(sys.executable).parent


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    return synthesize(ROWS, 2029)


@pytest.fixture
def parts(tmp_path: Path, frame: pd.DataFrame) -> Path:
    """The rows as four Parquet files in a folder."""
    for number, rows in enumerate(np.array_split(np.arange(len(frame)), 4)):
        write_table(frame.iloc[rows], tmp_path / "parts" / f"part-{number}.parquet")
    return tmp_path / "parts"


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "modelling.json"
    path.write_text(json.dumps({"train": {"n_estimators": 40}}))
    return path


def _run(arguments: list[str], summary: Path) -> dict[str, object]:
    os.environ.pop("MLFLOW_TRACKING_URI", None)  # MLflow sets it when a run opens its store: each run its own
    assert main(["run", *arguments, "--quiet", "--summary-json", str(summary)]) == 0
    result: dict[str, object] = json.loads(summary.read_text())
    return result


def _auc_on(store_uri: str, held_out: pd.DataFrame) -> float:
    model = Registry(store_uri).load(Registry(store_uri).champion(NAME))
    return float(roc_auc_score(uci().labels(held_out), model.predict_proba(held_out)))


def test_a_cluster_run_registers_a_model_as_good_as_one_trained_here(
    tmp_path: Path,
    workspace: Path,
    monkeypatch: pytest.MonkeyPatch,
    frame: pd.DataFrame,
    parts: Path,
    config: Path,
) -> None:
    # Given the same rows in one file, trained in one process in a workspace (and store) of its own
    single = write_table(frame, tmp_path / "one.parquet")
    monkeypatch.setenv("CREDITOPS_WORKSPACE", str(tmp_path / "single"))
    here = _run(["--data", str(single), "--config", str(config)], tmp_path / "single.json")
    single_store = from_process().store_uri

    # When the folder of parts is trained on a local cluster of two worker processes
    monkeypatch.setenv("CREDITOPS_WORKSPACE", str(workspace))
    first = _run(["--data", str(parts), "--config", str(config), "--cluster", "local:2"], tmp_path / "cluster.json")

    # Then a version is registered and promoted, with exact counts and the sample it was evaluated on
    context = from_process()
    assert first["registration"]["registered"], first
    assert first["champion_version"] == "1"
    data = first["data"]
    assert data["rows"] == ROWS
    assert data["train_rows"] + data["test_rows"] == ROWS
    assert data["default_rate"] == here["data"]["default_rate"]
    assert first["evaluated_on"] == f"all {data['test_rows']:,} rows of the test split, collected from the cluster"
    assert here["evaluated_on"] is None
    card = Path(first["report"]).read_text()
    assert "collected from the cluster" in card

    # and its ROC AUC is within 0.01 of the model trained here, both judged on the same new rows
    held_out = synthesize(20_000, 77, first_id=1_000_000)
    cluster_auc, single_auc = _auc_on(context.store_uri, held_out), _auc_on(single_store, held_out)
    assert abs(cluster_auc - single_auc) < 0.01, (cluster_auc, single_auc)
    # (each run also judges itself on its own test split of about 1,000 rows: ±0.015 each, so only roughly)
    assert abs(first["metrics"]["roc_auc"] - here["metrics"]["roc_auc"]) < 0.05

    # When the same run is repeated, then nothing new is registered
    second = _run(["--data", str(parts), "--config", str(config), "--cluster", "local:2"], tmp_path / "again.json")
    assert not second["registration"]["registered"]
    assert "same data, config and code as version 1" in second["registration"]["reason"]
    assert len(Registry(context.store_uri).versions(NAME)) == 1

    # And a version trained on one file on the cluster gets its card on the test rows the cluster held out
    monkeypatch.setenv("CREDITOPS_WORKSPACE", str(tmp_path / "one-file"))
    trained = _run(["--data", str(single), "--config", str(config), "--cluster", "local:2"], tmp_path / "one.json")
    card = tmp_path / "one-file.html"
    assert main(["report", f"models:/{NAME}/1", "--out", str(card)]) == 0
    text = card.read_text()
    assert f"the test part of {single} in the hashed split the cluster made (test ratio 0.25, seed" in text
    assert f"{trained['data']['test_rows']:,} rows, default rate" in text
    monkeypatch.setenv("CREDITOPS_WORKSPACE", str(workspace))

    # And the registered model scores a file like any other
    portfolio = write_table(held_out.head(500), tmp_path / "portfolio.csv")
    scored_path = tmp_path / "scored.csv"
    model = f"models:/{NAME}@champion"
    scoring = ["score", "--model", model, "--data", str(portfolio), "--output", str(scored_path)]
    assert main([*scoring, "--no-logging"]) == 0
    scored = read_table(scored_path)
    assert len(scored) == 500
    assert scored["probability"].between(0, 1).all()


def test_other_learners_and_other_formats_are_refused_in_one_line(
    tmp_path: Path, workspace: Path, frame: pd.DataFrame, parts: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    other = tmp_path / "gbm.json"
    other.write_text(json.dumps({"train": {"algorithm": "sklearn_gbm"}}))
    assert main(["run", "--data", str(parts), "--config", str(other), "--cluster", "local:2"]) != 0
    assert "--cluster trains LightGBM only; set train.algorithm to lightgbm" in capsys.readouterr().err
    csv = write_table(frame, tmp_path / "data.csv")
    assert main(["run", "--data", str(csv), "--cluster", "local:2"]) != 0
    assert "pass a .parquet file, a folder of them or a glob" in capsys.readouterr().err


def test_a_run_on_a_scheduler_and_workers_in_other_processes_registers(
    tmp_path: Path, dask_cluster: str, parts: Path, config: Path
) -> None:
    workspace = tmp_path / "remote-workspace"
    summary = tmp_path / "summary.json"
    # a relative --data: the workers, started elsewhere, read the files by their absolute paths
    command = [str(BIN / "creditops"), "run", "--data", "parts", "--config", str(config)]
    command += ["--cluster", dask_cluster, "--quiet", "--summary-json", str(summary)]
    environment = {**os.environ, "CREDITOPS_WORKSPACE": str(workspace)}
    environment.pop("MLFLOW_TRACKING_URI", None)
    finished = subprocess.run(  # nosec B603
        command, cwd=tmp_path, env=environment, capture_output=True, text=True, timeout=300, check=False
    )
    assert finished.returncode == 0, finished.stderr[-2000:]
    result = json.loads(summary.read_text())
    assert result["registration"]["registered"]
    assert result["registration"]["version"] == "1"
    assert result["data"]["rows"] == ROWS
    assert result["metrics"]["roc_auc"] > 0.7


def test_a_quiet_run_with_an_empty_part_counts_every_row_and_prints_only_the_summary(
    tmp_path: Path, workspace: Path, frame: pd.DataFrame, parts: Path, config: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    # given the four parts and a part of no rows beside them
    write_table(frame.iloc[:0], parts / "part-9.parquet")
    # when they are trained on local:2 with --quiet (the workers print to this test's stdout, as to a terminal)
    summary = _run(
        ["--data", str(parts), "--config", str(config), "--cluster", "local:2", "--no-logging"], tmp_path / "s.json"
    )
    # then every row is counted, and no LightGBM or lightgbm.dask chatter was printed, here or by a worker
    assert summary["data"]["rows"] == ROWS
    out = capfd.readouterr().out
    assert "[LightGBM]" not in out
    assert "Finding random open ports" not in out
    assert out.lstrip().startswith("creditops run")
