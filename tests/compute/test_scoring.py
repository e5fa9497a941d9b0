"""`creditops score --cluster`: partitions scored on Dask workers that each load the model once, the same
scores as one process, and one-line errors for a cluster that is not there."""

import os
import subprocess
import sys
import time
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest

from creditops.cli import main
from creditops.config.environments import parse_cluster
from creditops.context import Context
from creditops.errors import CreditopsError
from creditops.modelling.estimators import TrainedModel
from creditops.processes import free_port
from creditops.serving.model import LoadedModel
from creditops.tracking.registry import load_model_dir, save_model_dir

from ..scoring.test_partitioned import scored_folder, write_parts

BIN = Path(sys.executable).parent


@pytest.fixture
def model_folder(tmp_path: Path, small_model: TrainedModel) -> Path:
    return save_model_dir(small_model, tmp_path / "model")


def _refused(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    """The one line a command that fails with exit 1 prints."""
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    return err


@pytest.mark.parametrize(
    ("cluster", "message"),
    [
        ("local:0", "--cluster local:0: a local cluster has 1 to 64 worker processes"),
        ("local:x", "--cluster 'local:x' is neither a Dask scheduler address (tcp://HOST:PORT) nor local:N"),
        ("tcp://host", "--cluster 'tcp://host' is neither a Dask scheduler address"),
    ],
)
def test_a_bad_cluster_is_one_line(
    workspace: Path, tmp_path: Path, cluster: str, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["score", "--model", "models:/none/1", "--data", "in", "--output", "out", "--cluster", cluster]
    assert message in _refused(argv, capsys)


def test_csv_and_an_output_that_is_a_file_are_refused_before_the_model_loads(
    workspace: Path, tmp_path: Path, portfolio: pd.DataFrame, capsys: pytest.CaptureFixture[str]
) -> None:
    portfolio.to_csv(tmp_path / "portfolio.csv", index=False)
    argv = ["score", "--model", "models:/none/1", "--data", "portfolio.csv", "--output", "out", "--cluster", "local:2"]
    assert "portfolio.csv is not Parquet" in _refused(argv, capsys)
    write_parts(portfolio, tmp_path / "in")
    (tmp_path / "out.parquet").write_bytes(b"")
    argv = ["score", "--model", "models:/none/1", "--data", "in", "--output", "out.parquet", "--cluster", "local:2"]
    assert "the output out.parquet is a file" in _refused(argv, capsys)


def test_without_the_dask_extra_the_cluster_is_one_line_naming_it(
    workspace: Path,
    tmp_path: Path,
    portfolio: pd.DataFrame,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setitem(sys.modules, "distributed", None)  # what `import distributed` finds without the extra
    monkeypatch.delitem(sys.modules, "creditops.compute.scoring", raising=False)
    write_parts(portfolio, tmp_path / "in")
    argv = ["score", "--model", "models:/none/1", "--data", "in", "--output", "out", "--cluster", "local:2"]
    said = _refused(argv, capsys)
    assert "scoring on a cluster needs Dask: pip install 'creditops[dask]'" in said


def test_other_commands_and_help_do_not_import_dask() -> None:
    code = (
        "import sys\nfrom creditops.cli import main\nmain(['score', '--help'])\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'dask', 'distributed'}))"
    )
    shown = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert shown.stdout.splitlines()[-1] == "[]"


def test_the_environments_scheduler_is_used_and_an_unreachable_one_is_one_line(
    workspace: Path,
    tmp_path: Path,
    portfolio: pd.DataFrame,
    model_folder: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # given an environment file naming a scheduler that nothing listens for
    address = f"tcp://127.0.0.1:{free_port()}"
    folder = tmp_path / "config" / "environments"
    folder.mkdir(parents=True)
    project = Path(__file__).resolve().parents[2] / "config"
    (folder / "dev.yaml").write_text(
        (project / "environments" / "dev.yaml").read_text() + f"compute:\n  dask_scheduler: {address}\n"
    )
    (folder.parent / "modelling.json").write_text((project / "modelling.json").read_text())
    monkeypatch.setenv("CREDITOPS_HOME", str(tmp_path / ".creditops"))
    write_parts(portfolio, tmp_path / "in")
    argv = ["score", "--model", str(model_folder), "--data", "in", "--output", "out", "--env", "dev"]
    # when the batch is scored with --env and no --cluster
    started = time.monotonic()
    assert main(argv) == 1
    # then the environment's scheduler was asked, briefly, and the refusal says how to start one
    assert time.monotonic() - started < 30
    err = capsys.readouterr().err.splitlines()[-1]
    assert f"no Dask scheduler answers at {address} within 10s" in err
    assert f"start one with 'dask scheduler' and its workers with 'dask worker {address}'" in err
    assert not (tmp_path / "out").exists()


@pytest.mark.e2e
def test_the_command_scores_a_folder_on_a_local_cluster_as_one_process_would(
    context: Context,
    tmp_path: Path,
    portfolio: pd.DataFrame,
    model_folder: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # given a portfolio as one file and as four files, and the model in a folder
    portfolio.to_parquet(tmp_path / "whole.parquet", index=False)
    write_parts(portfolio, tmp_path / "in")
    model = ["--model", str(model_folder), "--chunk-rows", "1000"]
    assert main(["score", *model, "--data", "whole.parquet", "--output", "single.parquet", "--no-logging"]) == 0
    capsys.readouterr()
    # when the folder is scored on a local cluster of two worker processes
    assert main(["score", *model, "--data", "in", "--output", "scored", "--cluster", "local:2"]) == 0
    said = " ".join(capsys.readouterr().out.split())
    # then every row is scored or refused, in parts with the single-process columns and probabilities
    assert "scored 1,998 of 2,000 rows" in said
    assert "on local:2 (2 workers, 4 partitions)" in said
    assert "2 invalid rows not scored, with their reasons: scored.invalid.csv" in said
    assert sorted(path.name for path in (tmp_path / "scored").iterdir()) == [f"part-{n:05d}.parquet" for n in range(4)]
    expected, got = pd.read_parquet(tmp_path / "single.parquet"), scored_folder(tmp_path / "scored")
    assert list(got.columns) == list(expected.columns)
    np.testing.assert_allclose(got["probability"], expected["probability"], rtol=0, atol=1e-12)
    pd.testing.assert_frame_equal(got.drop(columns="probability"), expected.drop(columns="probability"))
    invalid = pd.read_csv(tmp_path / "scored.invalid.csv")
    assert invalid["reasons"].tolist() == ["SEX: 9 is not an allowed code (1..2)", "AGE: 7 is outside 18..120"]
    # and the batch is recorded with where it ran
    client = mlflow.MlflowClient(context.store_uri)
    runs = client.search_runs([client.get_experiment_by_name("creditops").experiment_id])
    batch = next(run for run in runs if run.data.tags.get("creditops.kind") == "batch-score")
    assert batch.data.params["batch.input"] == "in"
    assert batch.data.params["batch.cluster"] == "local:2"
    assert batch.data.metrics["batch.partitions"] == 4
    assert (batch.data.metrics["batch.scored"], batch.data.metrics["batch.invalid_rows"]) == (1998, 2)


@pytest.mark.e2e
def test_each_worker_loads_the_model_once_however_many_partitions_it_scores(
    tmp_path: Path, small_model: TrainedModel, portfolio: pd.DataFrame
) -> None:
    from distributed import Client, LocalCluster

    from creditops.compute.scoring import score_on_cluster, worker_loads
    from creditops.scoring.partitioned import ShippedModel, parquet_inputs

    loaded = LoadedModel(small_model, "credit_default_model", "7", "models:/credit_default_model/7", 0.4)
    inputs = parquet_inputs(write_parts(portfolio, tmp_path / "in", row_group=100), tmp_path / "out")
    with (
        LocalCluster(n_workers=2, threads_per_worker=1, host="127.0.0.1", dashboard_address=None) as cluster,
        Client(cluster) as client,
    ):
        batch = score_on_cluster(
            loaded, inputs, tmp_path / "out", parse_cluster(cluster.scheduler_address), chunk_rows=1000, explain=2
        )
        loads = client.run(worker_loads)
    assert (batch.partitions, batch.workers, batch.result.scored) == (4, 2, 1998)
    assert scored_folder(tmp_path / "out")["reasons"].str.match(r"^(R0\d |$)").all()
    assert len(loads) == 2
    assert all(loaded_here == {ShippedModel.of(loaded).digest: 1} for loaded_here in loads.values())


@pytest.mark.e2e
def test_the_real_command_scores_on_a_scheduler_and_workers_of_their_own(
    workspace: Path, tmp_path: Path, portfolio: pd.DataFrame, model_folder: Path, dask_cluster: str
) -> None:
    from distributed import Client

    from creditops.compute.scoring import worker_loads
    from creditops.scoring.partitioned import ShippedModel

    # given a scheduler with two workers, each a process of its own
    write_parts(portfolio, tmp_path / "in")
    with Client(dask_cluster, timeout=30) as client:
        client.wait_for_workers(2, timeout=60)
        # when the installed command scores the folder there
        command = [str(BIN / "creditops"), "score", "--model", str(model_folder), "--data", "in"]
        command += ["--output", "scored", "--cluster", dask_cluster, "--chunk-rows", "1000"]
        done = subprocess.run(command, capture_output=True, text=True, timeout=120, env={**os.environ, "NO_COLOR": "1"})
        loads = client.run(worker_loads)
    # then all rows are accounted for, in four parts, and each worker loaded the model once
    assert done.returncode == 0, done.stderr
    assert "scored 1,998 of 2,000 rows" in done.stdout
    assert f"on {dask_cluster} (2 workers, 4 partitions)" in " ".join(done.stdout.split())
    assert len(scored_folder(tmp_path / "scored")) == 1998
    assert len(pd.read_csv(tmp_path / "scored.invalid.csv")) == 2
    digest = ShippedModel.of(LoadedModel(load_model_dir(model_folder), "model", "local", str(model_folder))).digest
    assert len(loads) == 2
    assert all(loaded_here == {digest: 1} for loaded_here in loads.values())


def test_a_worker_refuses_a_model_whose_bytes_are_not_its_digest(loaded_model: LoadedModel) -> None:
    from dataclasses import replace

    from creditops.compute.scoring import install
    from creditops.scoring.partitioned import ShippedModel

    shipped = ShippedModel.of(loaded_model)
    with pytest.raises(CreditopsError, match="arrived with other bytes: not loaded"):
        install(replace(shipped, model_file=shipped.model_file.replace(b"tree", b"free", 1)), shipped.digest)


@pytest.fixture
def loaded_model(small_model: TrainedModel) -> LoadedModel:
    return LoadedModel(small_model, "m", "1", "models:/m/1")


def test_a_worker_without_the_model_or_the_input_says_so_in_one_line(
    tmp_path: Path, loaded_model: LoadedModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    from creditops.compute import scoring as cluster
    from creditops.errors import DataError
    from creditops.scoring.partitioned import Piece, ShippedModel

    shipped = ShippedModel.of(loaded_model)
    piece = Piece(0, tmp_path / "elsewhere.parquet", (0,), 0, 10)
    monkeypatch.setattr(cluster, "_MODELS", {})
    monkeypatch.setattr(cluster, "LOADS", type(cluster.LOADS)())
    with pytest.raises(CreditopsError, match=r"worker has no model .*: its plugin did not run"):
        cluster._score_on_worker(shipped.digest, piece, 1000, 0)
    cluster.install(shipped, shipped.digest)
    with pytest.raises(DataError, match=r"cannot see .*elsewhere\.parquet: every worker reads the input at the path"):
        cluster._score_on_worker(shipped.digest, piece, 1000, 0)
