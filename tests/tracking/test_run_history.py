"""`runs list`: each run said in one line, newest first, from what creditops records on its runs."""

from pathlib import Path

import pytest

from creditops.context import Context
from creditops.errors import CreditopsError
from creditops.tracking import names
from creditops.tracking.registry import VersionInfo
from creditops.tracking.run_history import RunRecord, recent_runs, summarize

from ..registered_versions import register_two_versions


@pytest.fixture(scope="session")
def two_versions(tmp_path_factory: pytest.TempPathFactory) -> Context:
    return register_two_versions(tmp_path_factory.getbasetemp() / "two-versions")


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


def test_a_batch_scoring_run_names_its_rows_and_model() -> None:
    batch = _run(
        tags={names.RUN_KIND: names.BATCH_SCORE},
        params={"model.name": "credit_default_model", "model.version": "2"},
        metrics={"batch.rows": 12_000.0, "batch.invalid_rows": 3.0},
    )
    summary = summarize(batch, {})
    assert (summary.kind, summary.did) == ("batch-score", "scored 12,000 rows with credit_default_model v2 (3 invalid)")
    assert summary.roc_auc is None
    assert summary.git_commit is None


def test_steps_run_on_their_own_say_what_they_did() -> None:
    assert summarize(_run(params={"train.algorithm": "lightgbm"}), {}).did == "trained lightgbm"
    assert summarize(_run(params={"data.file": "credit.csv"}), {}).did == "prepared credit.csv"
    assert summarize(_run(tags={"better_than_last": "1", names.COMPARISON: "no champion"}), {}).did == (
        "evaluated: no champion"
    )


def test_json_keys_are_stable() -> None:
    payload = summarize(_run(tags=TRAINED), {}).as_dict()
    assert set(payload) == {
        "run_id", "name", "status", "started_at", "seconds", "kind", "did", "git_commit", "roc_auc", "registered"
    }  # fmt: skip
    assert payload["started_at"] == "1970-01-01T00:00:01+00:00"


def test_a_limit_below_one_is_refused(tmp_path: Path) -> None:
    for limit in (0, -3):
        with pytest.raises(CreditopsError, match=rf"^--limit must be 1 or more, not {limit}$"):
            recent_runs(f"sqlite:///{tmp_path}/mlflow.db", limit)


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
