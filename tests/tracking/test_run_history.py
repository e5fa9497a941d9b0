"""`runs list`: each run said in one line, newest first, from what creditops records on its runs."""

import socket
import subprocess  # nosec B404: runs this Python only, to get the id of a process that has ended
import sys
from pathlib import Path

import mlflow
import pytest

from creditops.context import Context
from creditops.errors import CreditopsError
from creditops.tracking import names
from creditops.tracking.registry import VersionInfo
from creditops.tracking.run_history import RunRecord, recent_runs, summarize
from creditops.tracking.store import connect, ensure_experiment


def _run(
    status: str = "FINISHED",
    tags: dict[str, str] | None = None,
    params: dict[str, str] | None = None,
    metrics: dict[str, float] | None = None,
) -> RunRecord:
    """A run that started at 1 s and ended 3.5 s later."""
    return RunRecord(
        "r1", "run 2026-12-05 lightgbm 4a110d5", status, 1_000, 4_500, tags or {}, params or {}, metrics or {}
    )


TRAINED = {names.COMPARISON: "better than champion v1: roc_auc 0.78 vs 0.77", "better_than_last": "1"}


def test_a_training_run_that_registered_names_the_version_and_its_gate_decision() -> None:
    gated = {names.GATE_DECISION: "awaiting-approval", names.GATE_ENVIRONMENT: "prod"}
    version = VersionInfo("credit_default_model", "3", (), gated, run_id="r1")
    tags = {**TRAINED, names.GIT_COMMIT: "4a110d5e"}
    summary = summarize(_run(tags=tags, metrics={"test.roc_auc": 0.78}), {"r1": [version]})
    assert summary.did == "registered credit_default_model version 3 (gate: awaiting-approval in prod)"
    assert (summary.kind, summary.git_commit, summary.roc_auc, summary.seconds) == ("training", "4a110d5e", 0.78, 3.5)
    assert summary.registered == ("credit_default_model/3",)


def test_a_run_that_registered_nothing_says_why() -> None:
    recorded = {**TRAINED, names.REGISTRATION: "nothing new registered: same data, config and code as version 2"}
    assert summarize(_run(tags=recorded), {}).did == recorded[names.REGISTRATION]
    # a run logged before the registration was recorded: the evaluation's verdict
    worse = {names.COMPARISON: "not better than champion v1", "better_than_last": "0"}
    assert summarize(_run(tags=worse), {}).did == "nothing new registered: not better than champion v1"


def test_runs_that_ended_early_or_still_run_say_so() -> None:
    assert summarize(_run("FAILED", tags=TRAINED), {}).did == "failed; nothing registered"
    running = summarize(RunRecord("r2", "run", "RUNNING", 1_000, None, TRAINED), {})
    assert (running.did, running.seconds) == ("still running; nothing registered", None)


def _batch(metrics: dict[str, float]) -> RunRecord:
    return _run(
        tags={names.RUN_KIND: names.BATCH_SCORE},
        params={"model.name": "credit_default_model", "model.version": "2"},
        metrics=metrics,
    )


def test_a_batch_scoring_run_names_the_rows_it_scored_of_those_it_read_and_its_model() -> None:
    summary = summarize(_batch({"batch.rows": 4_000.0, "batch.scored": 3_990.0, "batch.invalid_rows": 10.0}), {})
    assert (summary.kind, summary.did) == (
        "batch-score",
        "scored 3,990 of 4,000 rows with credit_default_model v2 (10 invalid)",
    )
    assert summary.roc_auc is None
    assert summary.git_commit is None
    every = _batch({"batch.rows": 4_000.0, "batch.scored": 4_000.0, "batch.invalid_rows": 0.0})
    assert summarize(every, {}).did == "scored 4,000 rows with credit_default_model v2"


def test_a_batch_run_logged_before_the_scored_count_counts_the_valid_rows_as_scored() -> None:
    summary = summarize(_batch({"batch.rows": 12_000.0, "batch.invalid_rows": 3.0}), {})
    assert summary.did == "scored 11,997 of 12,000 rows with credit_default_model v2 (3 invalid)"
    assert summarize(_batch({}), {}).did == "scored a batch with credit_default_model v2"


def test_a_batch_runs_time_is_the_batchs_own_not_its_mlflow_runs() -> None:
    # the run is open 3.5 s (only to record the batch); the batch took 42.5 s
    assert summarize(_batch({"batch.rows": 10.0, "batch.seconds": 42.5}), {}).seconds == 42.5
    assert summarize(_batch({"batch.rows": 10.0}), {}).seconds is None  # logged before batch.seconds was


def test_a_run_whose_process_is_gone_is_shown_killed() -> None:
    running = RunRecord("r2", "run", "RUNNING", 1_000, None, TRAINED)
    gone = summarize(running, {}, process_gone=True)
    assert (gone.status, gone.did, gone.seconds) == ("KILLED (its process is gone)", "killed; nothing registered", None)
    assert summarize(_run("FINISHED", tags=TRAINED), {}, process_gone=True).status == "FINISHED"


def test_steps_run_on_their_own_say_what_they_did() -> None:
    assert summarize(_run(params={"train.algorithm": "lightgbm"}), {}).did == "trained lightgbm"
    assert summarize(_run(params={"data.file": "credit.csv"}), {}).did == "prepared credit.csv"
    assert summarize(_run(tags={"better_than_last": "1", names.COMPARISON: "no champion"}), {}).did == (
        "evaluated: no champion"
    )


def test_json_keys_are_stable() -> None:
    payload = summarize(_run(tags=TRAINED), {}).as_dict()
    assert set(payload) == {
        "run_id", "name", "status", "started_at", "recorded_seconds", "kind", "did", "git_commit", "roc_auc",
        "registered",
    }  # fmt: skip
    assert payload["started_at"] == "1970-01-01T00:00:01+00:00"


def test_a_limit_below_one_is_refused(tmp_path: Path) -> None:
    for limit in (0, -3):
        with pytest.raises(CreditopsError, match=rf"^--limit must be 1 or more, not {limit}$"):
            recent_runs(f"sqlite:///{tmp_path}/mlflow.db", limit)


def test_a_limit_over_what_a_store_search_returns_is_refused_before_the_store_is_asked(tmp_path: Path) -> None:
    with pytest.raises(CreditopsError, match=r"^--limit must be at most 50000, not 50001$"):
        recent_runs(f"sqlite:///{tmp_path}/mlflow.db", 50_001)
    assert recent_runs(f"sqlite:///{tmp_path}/mlflow.db", 50_000) == []


def _dead_pid() -> int:
    """The id of a process that has ended (and been waited for)."""
    ended = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, check=True)
    return int(ended.stdout)


def test_a_running_run_whose_process_is_gone_reads_as_killed_and_the_store_is_left_as_it_was(tmp_path: Path) -> None:
    # given: a run of this machine left RUNNING by a process killed with kill -9, and one of another machine
    uri = f"sqlite:///{tmp_path}/mlflow.db"
    experiment = ensure_experiment(connect(uri))
    client = mlflow.MlflowClient(uri, uri)
    dead = {names.OWNER_PID: str(_dead_pid()), names.OWNER_HOST: socket.gethostname()}
    orphan = client.create_run(experiment, tags=dead, run_name="orphan").info.run_id
    elsewhere = {**dead, names.OWNER_HOST: f"not-{socket.gethostname()}"}
    remote = client.create_run(experiment, tags=elsewhere, run_name="remote").info.run_id
    # when
    shown = {run.run_id: run for run in recent_runs(uri, 20)}
    # then
    assert shown[orphan].status == "KILLED (its process is gone)"
    assert shown[remote].status == "RUNNING"  # another machine's process cannot be seen from here
    assert {client.get_run(run).info.status for run in (orphan, remote)} == {"RUNNING"}


def test_a_store_never_created_has_no_runs_and_stays_uncreated(tmp_path: Path) -> None:
    assert recent_runs(f"sqlite:///{tmp_path}/mlflow.db", 20) == []
    assert not (tmp_path / "mlflow.db").exists()


@pytest.mark.e2e
def test_the_runs_of_a_store_come_newest_first_with_what_they_registered(two_versions: Context) -> None:
    runs = recent_runs(two_versions.store_uri, 20)
    assert [run.registered for run in runs] == [("credit_default_model/2",), ("credit_default_model/1",)]
    assert runs[0].started_ms >= runs[1].started_ms
    assert all(run.status == "FINISHED" and run.kind == "training" for run in runs)
    assert runs[0].did == "registered credit_default_model version 2"
    assert all(run.roc_auc is not None and 0.5 < run.roc_auc <= 1 for run in runs)
    assert all(run.git_commit and run.seconds is not None for run in runs)
    assert [run.run_id for run in recent_runs(two_versions.store_uri, 1)] == [runs[0].run_id]
