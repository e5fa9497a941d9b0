"""The batch record in the MLflow store: what was scored, with which model, and what came out."""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path

from creditops.scoring.batch import BatchResult
from creditops.serving.model import LoadedModel
from creditops.tracking import names
from creditops.tracking.runs import RunLog, Tracker


@contextmanager
def batch_run(store_uri: str | None) -> Iterator[Callable[..., str | None]]:
    """The batch's own run, opened before anything is scored (an account that may not log runs is refused
    before an output is written), yielding the function that records what the batch did into it. A batch that
    fails ends its run as FAILED. With no `store_uri` (--no-logging) nothing is opened or recorded."""
    if store_uri is None:
        yield lambda *arguments, **options: None
        return
    tracker = Tracker(enabled=True, uri=store_uri)
    with tracker.run("batch score") as run_id:
        tracker.record(RunLog(tags={names.RUN_KIND: names.BATCH_SCORE}))
        yield partial(_record, tracker, run_id)


def _record(
    tracker: Tracker,
    run_id: str | None,
    loaded: LoadedModel,
    source: Path | str,
    result: BatchResult,
    *,
    cluster: str | None = None,
    partitions: int | None = None,
) -> str | None:
    """What the batch did: `source` is a file, a folder or a glob; a batch scored on a cluster records the
    scheduler's address and its partitions."""
    where = {"batch.cluster": cluster} if cluster is not None else {}
    parts = {"batch.partitions": partitions} if partitions is not None else {}
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
        )
    )
    return run_id
