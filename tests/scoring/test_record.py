"""The batch record: a run of its own holding what was scored, with which model, and how long it took."""

from pathlib import Path

import mlflow
import pytest

from creditops.scoring.batch import BatchResult
from creditops.scoring.record import batch_run
from creditops.serving.model import LoadedModel
from creditops.tracking.run_history import recent_runs


def test_the_batch_is_recorded_with_its_counts_and_its_own_seconds(tmp_path: Path, loaded: LoadedModel) -> None:
    uri = f"sqlite:///{tmp_path}/mlflow.db"
    result = BatchResult(4_000, 3_990, 10, 0.21, tmp_path / "scores.csv", tmp_path / "invalid.csv", 42.5)
    with batch_run(uri) as record:
        run_id = record(loaded, tmp_path / "batch.csv", result)
    assert run_id is not None
    metrics = mlflow.MlflowClient(uri, uri).get_run(run_id).data.metrics
    assert {key: metrics[key] for key in ("batch.rows", "batch.scored", "batch.invalid_rows", "batch.seconds")} == {
        "batch.rows": 4_000,
        "batch.scored": 3_990,
        "batch.invalid_rows": 10,
        "batch.seconds": 42.5,
    }
    [shown] = recent_runs(uri, 5)
    assert (shown.kind, shown.seconds) == ("batch-score", 42.5)
    assert shown.did == "scored 3,990 of 4,000 rows with credit_default_model v7 (10 invalid)"


def test_the_run_opens_before_the_batch_and_a_failed_batch_ends_it_failed(tmp_path: Path) -> None:
    uri = f"sqlite:///{tmp_path}/mlflow.db"
    seen = []

    def scoring() -> None:
        seen.extend(recent_runs(uri, 5))  # before anything is scored: an account that may not log is refused here
        raise RuntimeError("scoring failed")

    with pytest.raises(RuntimeError, match="scoring failed"), batch_run(uri):
        scoring()
    [opened] = seen
    assert (opened.kind, opened.status) == ("batch-score", "RUNNING")
    [ended] = recent_runs(uri, 5)
    assert ended.status == "FAILED"


def test_without_a_store_nothing_is_opened_or_recorded(tmp_path: Path, loaded: LoadedModel) -> None:
    result = BatchResult(1, 1, 0, 0.0, tmp_path / "scores.csv", None, 0.1)
    with batch_run(None) as record:
        assert record(loaded, tmp_path / "batch.csv", result) is None
    assert list(tmp_path.iterdir()) == []
