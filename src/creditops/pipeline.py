"""The training pipeline: check data → prep → train → evaluate → register → report → promote.

The steps compute on values in memory; the pipeline writes what it logs (the evaluation files and the
model card) once, into a folder of its own run, for tracking. The first three stages run in this process
or, given other `Stages` (compute/training.py), on a Dask cluster; the rest run here either way.
"""

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any, Protocol, TypeVar

import pandas as pd

from creditops.config.modelling import ModellingConfig
from creditops.context import Context
from creditops.data.contract import Contract
from creditops.data.location import DataLocation
from creditops.files import scratch_dir
from creditops.prefetch import import_modules, prefetched
from creditops.steps import common
from creditops.steps.data_prep import Split, load_checked, prepare
from creditops.steps.evaluate import Evaluation, evaluate, find_champion, write_evaluation
from creditops.steps.manifests import DataManifest
from creditops.steps.register import Registration, Verdict, lineage_tags, register
from creditops.steps.train import Training, train
from creditops.tracking import names
from creditops.tracking.lineage import git_commit
from creditops.tracking.registry import Registry
from creditops.tracking.runs import RunLog, Tracker, flatten
from creditops.tracking.store import open_if_exists

STAGES = ("check data", "prep", "train", "evaluate", "register", "report", "promote")
NOT_LOGGED = "nothing logged or registered: --no-logging trains and evaluates only (as the original --no_logging)"
StageListener = Callable[[str, float | None], None]
"""Called with a stage name and None when it starts, and with its seconds when it ends."""


class Prepared(Protocol):
    """What prep hands on: the rows evaluate, the gate and the card use, and the split's records."""

    @property
    def test(self) -> pd.DataFrame: ...
    @property
    def manifest(self) -> DataManifest: ...
    @property
    def log(self) -> RunLog: ...
    @property
    def evaluated_on(self) -> str | None:
        """What `test` is when it is not the whole test split in this process (for the summary and card)."""


Checked = TypeVar("Checked")
Prep = TypeVar("Prep", bound=Prepared)


class Stages(Protocol[Checked, Prep]):
    """check data, prep and train: in this process (`LocalStages`) or elsewhere."""

    def check(self, data: DataLocation, contract: Contract) -> Checked: ...
    def prep(self, checked: Checked, source: str, config: ModellingConfig, contract: Contract) -> Prep: ...
    def train(self, prepared: Prep, config: ModellingConfig, commit: str, contract: Contract) -> Training: ...


class LocalStages:
    """The first stages in this process, on one table in memory."""

    def check(self, data: DataLocation, contract: Contract) -> tuple[pd.DataFrame, str]:
        return load_checked(data, contract)

    def prep(
        self, checked: tuple[pd.DataFrame, str], source: str, config: ModellingConfig, contract: Contract
    ) -> Split:
        return prepare(*checked, source, config, contract)

    def train(self, prepared: Split, config: ModellingConfig, commit: str, contract: Contract) -> Training:
        return train(prepared.train, prepared.manifest, config, commit, contract)


@dataclass
class PipelineResult:
    """What the run produced, for the summary table and the benchmark."""

    data_manifest: dict[str, Any] = field(default_factory=dict)
    evaluation: Evaluation | None = None
    registration: Registration | None = None
    champion_version: str | None = None
    report: Path | None = None
    run_id: str | None = None
    seconds: dict[str, float] = field(default_factory=dict)
    evaluated_on: str | None = None
    """What the evaluation scored when not the whole test split in this process (a cluster's sample)."""

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready summary of the run."""
        evaluation = self.evaluation
        registration = self.registration
        return {
            "data": self.data_manifest,
            "metrics": None if evaluation is None else evaluation.metrics,
            "champion_metrics": None if evaluation is None else evaluation.champion_metrics,
            "comparison": None if evaluation is None else asdict(evaluation.comparison),
            "registration": None if registration is None else asdict(registration),
            "champion_version": self.champion_version,
            "report": None if self.report is None else str(self.report),
            "run_id": self.run_id,
            "seconds": self.seconds,
            "evaluated_on": self.evaluated_on,
        }


def run_name(algorithm: str, commit: str) -> str:
    """What a run did, for the runs list: 'run 2026-11-30 lightgbm 4a110d5'."""
    return (
        f"run {datetime.now(tz=UTC):%Y-%m-%d} {algorithm} {commit[:7]}{'-dirty' if commit.endswith('-dirty') else ''}"
    )


def run_pipeline(
    data_path: DataLocation,
    config: ModellingConfig,
    context: Context,
    *,
    tracking: bool = True,
    promote: bool = True,
    on_stage: StageListener | None = None,
    stages: "Stages[Any, Any] | None" = None,
) -> PipelineResult:
    """Run every stage; a failing stage raises and leaves the registry and aliases as they were.

    `promote` moves the `champion` alias to a newly registered version (environments that need no
    approval, such as dev). Without `tracking` the run logs nothing, registers nothing and creates no store.
    `stages` computes check data, prep and train (default: `LocalStages`, in this process).
    """
    first = stages or LocalStages()
    registry = Registry(context.store_uri, context.authenticated_user)
    tracker = Tracker(enabled=tracking, uri=context.store_uri)
    result = PipelineResult()
    timer = partial(_timed, result.seconds, on_stage or _ignore)
    contract = config.contract()
    with timer("check data"):
        checked = first.check(data_path, contract)
    with timer("prep"):
        prepared = first.prep(checked, str(data_path), config, contract)
        result.data_manifest = prepared.manifest.model_dump(mode="json")
        result.evaluated_on = prepared.evaluated_on
        del checked  # the split holds every row: the whole frame is 2 GB at 10 M rows
    commit = git_commit(override=context.commit_override)
    with timer("train"), prefetched(partial(_prepare_later_stages, context.store_uri if tracking else None)):
        trained = first.train(prepared, config, commit, contract)
    with timer("evaluate"):
        evaluation = evaluate(trained.model, prepared.test, find_champion(registry, config.registry.model_name), config)
        result.evaluation = evaluation
    with (
        scratch_dir("run-", context.pipeline_dir) as scratch,
        tracker.run(run_name(trained.model.algorithm, commit)) as run_id,
    ):
        result.run_id = run_id
        config_log = RunLog(params=flatten(config.model_dump(mode="json")))
        for log in (config_log, prepared.log, trained.log, evaluation.log):
            tracker.record(log)
        tracker.record(write_evaluation(evaluation, Path(scratch) / "evaluation", config))
        with timer("register"):
            if tracking:
                verdict = Verdict(evaluation.comparison.better, evaluation.comparison.reason, evaluation.metrics)
                registration = register(registry, trained.model, trained.manifest, verdict, config)
            else:
                registration = Registration(False, None, NOT_LOGGED)
            result.registration = registration
            tracker.record(RunLog(tags={names.REGISTRATION: registration.reason}))
        with timer("report"):
            result.report = _report(context, prepared, trained, config, evaluation, registration, run_id)
            tracker.record(RunLog(artifacts=(result.report,), artifact_folder="report"))
    with timer("promote"):
        finished = _finish_interrupted_promotion(registry, config, registration) if promote and tracking else None
        if finished is not None:
            result.registration = registration = finished
        result.champion_version = _promote(registry, config, registration, promote)
    return result


def _prepare_later_stages(store_uri: str | None) -> None:
    """What evaluate, register and report need first (MLflow's SQL store, the model card's modules, an existing
    store opened), for `prefetched` beside training, which never touches them and holds no GIL (check data and
    prep, in pandas, would wait for the imports). A new store is left for the main thread to create: a run
    that fails before it logs writes nothing."""
    import_modules("mlflow.store.tracking.sqlalchemy_store", "creditops.report.build")
    if store_uri is not None:
        open_if_exists(store_uri)


def _report(
    context: Context,
    prepared: Prepared,
    trained: Training,
    config: ModellingConfig,
    evaluation: Evaluation,
    registration: Registration,
    run_id: str | None,
) -> Path:
    lineage = {**lineage_tags(trained.manifest), "mlflow run": run_id or "tracking off"}
    lineage.pop(names.FINGERPRINT)
    if prepared.evaluated_on is not None:
        lineage["evaluated on"] = prepared.evaluated_on
    champion = evaluation.champion
    from creditops.report.build import card_for_candidate  # prefetched beside training (its imports take ~1 s)

    return card_for_candidate(
        context.reports_dir,
        trained.model,
        prepared.test,
        config.registry.model_name,
        registration.version if registration.registered else None,
        config.eval.threshold,
        lineage,
        None if champion is None else champion.model,
        None if champion is None else champion.version,
        run_id,
        evaluation.probability,
        gate=None if context.environment is None else context.environment.gate,
    )


def _finish_interrupted_promotion(
    registry: Registry, config: ModellingConfig, registration: Registration
) -> Registration | None:
    """A run killed between register and promote leaves its version `challenger`, not `champion`; the
    next run of the same data, config and code finds that version and finishes the promotion."""
    if registration.registered or registration.version is None:
        return None
    name = config.registry.model_name
    versions = registry.versions(name)
    same = next((info for info in versions if info.version == registration.version), None)
    newest = versions[0] if versions else None
    if same is None or same is not newest or names.CHALLENGER not in same.aliases or names.CHAMPION in same.aliases:
        return None
    common.log.info("promote: version %s was registered by an interrupted run; promoting it now", same.version)
    reason = f"{registration.reason}; an interrupted run had registered it without promoting it: promoted now"
    return Registration(True, same.version, reason)


def _promote(registry: Registry, config: ModellingConfig, registration: Registration, promote: bool) -> str | None:
    name = config.registry.model_name
    if promote and registration.registered and registration.version is not None:
        registry.set_alias(name, names.CHAMPION, registration.version)
        common.log.info("promote: %s version %s is the champion", name, registration.version)
    champion = registry.champion(name)
    return None if champion is None else champion.version


@contextmanager
def _timed(seconds: dict[str, float], listener: StageListener, stage: str) -> Iterator[None]:
    listener(stage, None)
    started = time.perf_counter()
    yield
    seconds[stage] = time.perf_counter() - started
    listener(stage, seconds[stage])


def _ignore(stage: str, elapsed: float | None) -> None:
    """A stage listener that does nothing."""
