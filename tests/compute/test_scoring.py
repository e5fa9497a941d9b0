"""`creditops score --cluster`: partitions scored on Dask workers that each load the model once, the same
scores as one process, and one-line errors for a cluster that is not there."""

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

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

if TYPE_CHECKING:
    import psutil

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


@pytest.fixture
def bogus_dev(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A project folder whose dev.yaml names a scheduler nothing listens for; that scheduler's address."""
    address = f"tcp://127.0.0.1:{free_port()}"
    folder = tmp_path / "config" / "environments"
    folder.mkdir(parents=True)
    project = Path(__file__).resolve().parents[2] / "config"
    (folder / "dev.yaml").write_text(
        (project / "environments" / "dev.yaml").read_text() + f"compute:\n  dask_scheduler: {address}\n"
    )
    (folder.parent / "modelling.json").write_text((project / "modelling.json").read_text())
    monkeypatch.setenv("CREDITOPS_HOME", str(tmp_path / ".creditops"))
    return address


@pytest.mark.parametrize("env", [["--env", "dev"], []], ids=["with --env dev", "without --env: dev"])
def test_the_environments_scheduler_is_used_and_an_unreachable_one_is_one_line(
    workspace: Path,
    tmp_path: Path,
    portfolio: pd.DataFrame,
    model_folder: Path,
    bogus_dev: str,
    env: list[str],
    capsys: pytest.CaptureFixture[str],
) -> None:
    # given an environment file naming a scheduler that nothing listens for
    address = bogus_dev
    write_parts(portfolio, tmp_path / "in")
    argv = ["score", "--model", str(model_folder), "--data", "in", "--output", "out", *env]
    # when the batch is scored without --cluster (dev's file without --env, as other commands read it)
    started = time.monotonic()
    assert main(argv) == 1
    # then the environment's scheduler was asked, briefly, and the refusal says how to start one
    assert time.monotonic() - started < 30
    captured = capsys.readouterr()
    err = captured.err.splitlines()[-1]
    assert f"no Dask scheduler answers at {address} within 10s" in err
    assert f"start one with 'dask scheduler' and its workers with 'dask worker {address}'" in err
    assert not (tmp_path / "out").exists()
    # and nothing was written on stdout: no progress display before the cluster answered
    assert captured.out == ""


def test_the_cluster_flag_wins_over_devs_scheduler(
    workspace: Path, tmp_path: Path, bogus_dev: str, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["score", "--model", "models:/none/1", "--data", "in", "--output", "out", "--cluster", "local:0"]
    said = _refused(argv, capsys)
    assert "--cluster local:0: a local cluster has 1 to 64 worker processes" in said
    assert bogus_dev not in said


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


def _sigint_held(process: "psutil.Process") -> bool | None:
    """Whether SIGINT is blocked or ignored in `process` (None: it is gone): the workers block it, the
    resource tracker multiprocessing starts ignores it."""
    try:
        status = Path(f"/proc/{process.pid}/status").read_text()
    except OSError:
        return None
    masks = [int(line.split()[1], 16) for line in status.splitlines() if line.startswith(("SigBlk:", "SigIgn:"))]
    return any(mask & (1 << (signal.SIGINT - 1)) for mask in masks)


@pytest.mark.e2e
@pytest.mark.skipif(not Path("/proc/self/status").is_file(), reason="reads /proc")
@pytest.mark.parametrize("when", ["while the workers start", "while the batch is scored"])
def test_a_ctrl_c_stops_the_command_and_leaves_no_output_and_no_worker(
    tmp_path: Path, portfolio: pd.DataFrame, model_folder: Path, when: str
) -> None:
    psutil = pytest.importorskip("psutil")
    # given a portfolio of many small partitions, scored by the installed command on local:2 in a process
    # group of its own, as a terminal runs it
    write_parts(pd.concat([portfolio] * 20, ignore_index=True), tmp_path / "in", row_group=1_000)
    command = [str(BIN / "creditops"), "score", "--model", str(model_folder), "--data", "in", "--output", "scored"]
    command += ["--cluster", "local:2", "--chunk-rows", "1000", "--explain", "2", "--no-logging"]
    started = subprocess.Popen(  # nosec B603
        command,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "NO_COLOR": "1", "CREDITOPS_WORKSPACE": str(tmp_path / "ws")},
        start_new_session=True,
        # as from a terminal: Ctrl-C not ignored, whatever the runner passed down (`trap "" INT`)
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    me = psutil.Process(started.pid)
    seen: dict[int, psutil.Process] = {}
    try:
        # when the terminal's Ctrl-C reaches the whole group: as soon as a worker process exists, or once
        # the parts are being written
        deadline = time.monotonic() + 60
        while started.poll() is None and time.monotonic() < deadline:
            with contextlib.suppress(psutil.Error):
                seen.update((child.pid, child) for child in me.children(recursive=True) if _is_python(child))
            staging = any(tmp_path.glob(".scored.*"))
            if (seen and when == "while the workers start") or (staging and when == "while the batch is scored"):
                break
            time.sleep(0.005)
        held = {pid: _sigint_held(child) for pid, child in seen.items()}
        os.killpg(started.pid, signal.SIGINT)
        out, err = started.communicate(timeout=60)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(started.pid, signal.SIGKILL)
        started.wait(timeout=10)
    # then the command stops with 130, writes nothing, and its workers, which never saw SIGINT, are gone
    assert started.returncode == 130, (out, err)
    assert seen
    assert all(state in (True, None) for state in held.values()), held
    if when == "while the workers start":  # later, distributed's sync() may log its own race (a NameError)
        assert b"Traceback" not in err, err
    assert not (tmp_path / "scored").exists()
    assert not list(tmp_path.glob(".scored.*"))
    gone = time.monotonic() + 10
    while any(_alive(child) for child in seen.values()) and time.monotonic() < gone:
        time.sleep(0.1)
    assert not [child.pid for child in seen.values() if _alive(child)]


@pytest.mark.e2e
def test_a_killed_command_leaves_no_worker_and_its_next_run_sweeps_the_staging(
    tmp_path: Path, portfolio: pd.DataFrame, model_folder: Path
) -> None:
    psutil = pytest.importorskip("psutil")
    # given the installed command scoring many small partitions on local:2
    write_parts(pd.concat([portfolio] * 20, ignore_index=True), tmp_path / "in", row_group=1_000)
    command = [str(BIN / "creditops"), "score", "--model", str(model_folder), "--data", "in", "--output", "scored"]
    command += ["--cluster", "local:2", "--chunk-rows", "1000", "--explain", "2", "--no-logging"]
    environ = {**os.environ, "NO_COLOR": "1", "CREDITOPS_WORKSPACE": str(tmp_path / "ws")}
    started = subprocess.Popen(  # nosec B603
        command, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=environ
    )
    me = psutil.Process(started.pid)
    seen: dict[int, psutil.Process] = {}
    try:
        deadline = time.monotonic() + 60
        while started.poll() is None and time.monotonic() < deadline and not any(tmp_path.glob(".scored.*")):
            with contextlib.suppress(psutil.Error):
                seen.update((child.pid, child) for child in me.children(recursive=True))
            time.sleep(0.005)
        # when the command alone is killed (as the out-of-memory killer would) while the parts are written
        started.kill()
    finally:
        started.wait(timeout=10)
    assert seen
    assert list(tmp_path.glob(".scored.*"))  # a kill leaves its staging: nothing can clean up after it
    # then its workers go (their scheduler, in the command, is gone)
    gone = time.monotonic() + 30
    while any(_alive(child) for child in seen.values()) and time.monotonic() < gone:
        time.sleep(0.1)
    assert not [child.pid for child in seen.values() if _alive(child)]
    # and the next run of the same command sweeps the dead one's staging and completes
    again = subprocess.run(command, cwd=tmp_path, capture_output=True, env=environ, timeout=120, check=False)  # nosec B603
    assert again.returncode == 0, again.stderr
    assert not list(tmp_path.glob(".scored.*"))
    refused = pd.read_csv(tmp_path / "scored.invalid.csv")
    assert len(pd.read_parquet(tmp_path / "scored")) + len(refused) == 20 * len(portfolio)


def _is_python(process: "psutil.Process") -> bool:
    """A Python child (a worker, the resource tracker), not a helper an import runs and reaps at once
    (`platform.processor()` runs `uname -p` from the main thread, before SIGINT is held)."""
    import psutil

    try:
        return Path(process.exe()).name.startswith("python")
    except psutil.Error:
        return False


def _alive(process: "psutil.Process") -> bool:
    import psutil

    try:
        return process.is_running() and process.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False
