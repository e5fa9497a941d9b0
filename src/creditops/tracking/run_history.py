"""The recent runs of a store, newest first (`creditops runs list`): when, how each ended, what it did
(registered a version, registered nothing and why, scored a batch), its commit, time recorded and ROC AUC.
`recent_runs` reads the store and writes nothing to it; `summarize` is a pure function of one run, the registered
versions and whether the run's process is known to be gone."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final

import mlflow
from mlflow.exceptions import MlflowException

from creditops.errors import CreditopsError
from creditops.tracking import names
from creditops.tracking.registry import Registry, VersionInfo, unanswered
from creditops.tracking.runs import owner_is_gone
from creditops.tracking.store import connect, store_exists

HEADLINE_METRIC: Final = "test.roc_auc"
"""The run metric shown for each run: ROC AUC on the test split (what the pipeline and evaluate log)."""
ENDED_EARLY: Final = {"RUNNING": "still running", "FAILED": "failed", "KILLED": "killed"}
MAX_LIMIT: Final = 50_000
"""The most runs one search of an MLflow store returns (its `max_results` ceiling)."""
PROCESS_GONE: Final = "KILLED (its process is gone)"
"""The status shown for a run MLflow still holds as RUNNING whose process, on this machine, is gone: the next
run that starts marks it KILLED (`mark_dead_runs_killed`); `runs list` only says so."""


@dataclass(frozen=True)
class RunRecord:
    """What MLflow holds about one run, as plain values."""

    run_id: str
    name: str
    status: str
    start_ms: int
    end_ms: int | None
    tags: Mapping[str, str] = field(default_factory=dict)
    params: Mapping[str, str] = field(default_factory=dict)
    metrics: Mapping[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class RunSummary:
    """One run as `runs list` shows it."""

    run_id: str
    name: str
    status: str
    started_ms: int
    seconds: float | None
    """The time recorded for the run: a batch-score run's own scoring time (its `batch.seconds`); any other
    run's time between opening and ending its MLflow run (for `creditops run`: from after evaluation to the
    report, not the whole command). None while the run is still running or when nothing was recorded."""
    kind: str
    """batch-score, training (a run that trained or evaluated a model) or other (a step of its own)."""
    did: str
    git_commit: str | None
    roc_auc: float | None
    registered: tuple[str, ...]
    """NAME/VERSION of each version registered from this run."""

    def as_dict(self) -> dict[str, Any]:
        """`--output json`: stable keys, times in UTC ISO 8601."""
        return {
            "run_id": self.run_id,
            "name": self.name,
            "status": self.status,
            "started_at": datetime.fromtimestamp(self.started_ms / 1000, tz=UTC).isoformat(timespec="seconds"),
            "recorded_seconds": self.seconds,
            "kind": self.kind,
            "did": self.did,
            "git_commit": self.git_commit,
            "roc_auc": self.roc_auc,
            "registered": list(self.registered),
        }


def check_limit(limit: int) -> int:
    if limit < 1:
        raise CreditopsError(f"--limit must be 1 or more, not {limit}")
    if limit > MAX_LIMIT:
        raise CreditopsError(f"--limit must be at most {MAX_LIMIT}, not {limit}")
    return limit


def recent_runs(uri: str, limit: int) -> list[RunSummary]:
    """The newest `limit` runs of every experiment in the store at `uri`, newest first; empty when it has
    none (a store never created stays uncreated)."""
    check_limit(limit)
    if not store_exists(uri):
        return []
    connect(uri)
    client = mlflow.MlflowClient(uri, uri)
    try:
        experiments = [experiment.experiment_id for experiment in client.search_experiments()]
        found = (
            client.search_runs(experiments, order_by=["attributes.start_time DESC"], max_results=limit)
            if experiments
            else []
        )
    except MlflowException as error:
        raise unanswered(error, uri, "list the runs") from error
    if not found:
        return []
    registered = versions_by_run(Registry(uri))
    records = [_record(run) for run in found]
    return [
        summarize(record, registered, process_gone=record.status == "RUNNING" and owner_is_gone(record.tags))
        for record in records
    ]


def versions_by_run(registry: Registry) -> dict[str, list[VersionInfo]]:
    """Every registered version of the store, by the id of the run it came from."""
    by_run: dict[str, list[VersionInfo]] = {}
    for name in registry.names():
        for info in registry.versions(name):
            if info.run_id:
                by_run.setdefault(info.run_id, []).append(info)
    return by_run


def _record(run: Any) -> RunRecord:
    info, data = run.info, run.data
    return RunRecord(
        run_id=info.run_id,
        name=info.run_name or "",
        status=str(info.status),
        start_ms=int(info.start_time or 0),
        end_ms=None if info.end_time is None else int(info.end_time),
        tags=dict(data.tags),
        params=dict(data.params),
        metrics=dict(data.metrics),
    )


def summarize(
    run: RunRecord, registered: Mapping[str, Sequence[VersionInfo]], *, process_gone: bool = False
) -> RunSummary:
    """What the run did, in one line, from its tags, params and metrics and the versions registered from it.

    `process_gone`: the run is RUNNING in MLflow but its process is gone; it is shown as killed.
    """
    versions = sorted(registered.get(run.run_id, ()), key=lambda info: (info.name, int(info.version)))
    tags = run.tags
    training = names.COMPARISON in tags or "train.algorithm" in run.params
    kind = "batch-score" if tags.get(names.RUN_KIND) == names.BATCH_SCORE else "training" if training else "other"
    status = PROCESS_GONE if process_gone and run.status == "RUNNING" else run.status
    return RunSummary(
        run_id=run.run_id,
        name=run.name,
        status=status,
        started_ms=run.start_ms,
        seconds=_seconds(run, kind),
        kind=kind,
        did=_did(run, kind, versions, gone=status == PROCESS_GONE),
        git_commit=tags.get(names.GIT_COMMIT),
        roc_auc=run.metrics.get(HEADLINE_METRIC),
        registered=tuple(f"{info.name}/{info.version}" for info in versions),
    )


def _seconds(run: RunRecord, kind: str) -> float | None:
    if kind == "batch-score":  # its MLflow run is opened only to record the batch: ~0 s of its own
        return run.metrics.get("batch.seconds")
    if run.end_ms is None or run.status == "RUNNING":
        return None
    return max(0, run.end_ms - run.start_ms) / 1000


def _did(run: RunRecord, kind: str, versions: Sequence[VersionInfo], *, gone: bool = False) -> str:
    tags, params = run.tags, run.params
    if kind == "batch-score":
        return _batch(run)
    if versions:
        return "; ".join(_registered(info) for info in versions)
    if names.REGISTRATION in tags:  # the pipeline's own words: registered, or why not
        return tags[names.REGISTRATION]
    if gone:
        return "killed; nothing registered"
    if run.status in ENDED_EARLY:
        return f"{ENDED_EARLY[run.status]}; nothing registered"
    if names.COMPARISON in tags:
        verdict = tags[names.COMPARISON]
        return f"nothing new registered: {verdict}" if tags.get("better_than_last") == "0" else f"evaluated: {verdict}"
    if "train.algorithm" in params:
        return f"trained {params['train.algorithm']}"
    if "data.file" in params:
        return f"prepared {params['data.file']}"
    return "—"


def _registered(info: VersionInfo) -> str:
    said = f"registered {info.name} version {info.version}"
    decision = info.tags.get(names.GATE_DECISION)
    if decision:
        said += f" (gate: {decision} in {info.tags.get(names.GATE_ENVIRONMENT, '?')})"
    return said


def _batch(run: RunRecord) -> str:
    """From the metrics a batch run records (`scoring.record`): batch.rows read, batch.scored,
    batch.invalid_rows refused."""
    rows = run.metrics.get("batch.rows")
    invalid = run.metrics.get("batch.invalid_rows") or 0
    scored = run.metrics.get("batch.scored")
    if scored is None and rows is not None:  # a run logged before batch.scored was: every valid row was scored
        scored = rows - invalid
    model = f"{run.params.get('model.name', '?')} v{run.params.get('model.version', '?')}"
    if rows is None:
        said = "scored a batch"
    elif scored is not None and int(scored) != int(rows):
        said = f"scored {int(scored):,} of {int(rows):,} rows"
    else:
        said = f"scored {int(rows):,} rows"
    return f"{said} with {model}" + (f" ({int(invalid):,} invalid)" if invalid else "")
