"""The batch record in the MLflow store: what was scored, with which model, and what came out."""

from pathlib import Path

from creditops.scoring.batch import BatchResult
from creditops.serving.model import LoadedModel
from creditops.tracking import names
from creditops.tracking.runs import RunLog, Tracker


def record_batch(
    store_uri: str,
    loaded: LoadedModel,
    source: Path | str,
    result: BatchResult,
    *,
    cluster: str | None = None,
    partitions: int | None = None,
) -> str | None:
    """Log the batch as a run of its own; its run id. `source` is a file, a folder or a glob; a batch scored on
    a cluster records the scheduler's address and its partitions."""
    tracker = Tracker(enabled=True, uri=store_uri)
    where = {"batch.cluster": cluster} if cluster is not None else {}
    parts = {"batch.partitions": partitions} if partitions is not None else {}
    with tracker.run("batch score") as run_id:
        tracker.record(
            RunLog(
                params={
                    "batch.input": str(source),
                    "batch.output": str(result.output),
                    "model.name": loaded.name,
                    "model.version": loaded.version,
                    "model.uri": loaded.uri,
                    **where,
                },
                metrics={
                    "batch.rows": result.rows,
                    "batch.scored": result.scored,
                    "batch.invalid_rows": result.invalid,
                    "batch.predicted_default_rate": result.default_rate,
                    "batch.seconds": result.seconds,
                    **parts,
                },
                tags={names.RUN_KIND: names.BATCH_SCORE},
            )
        )
    return run_id
