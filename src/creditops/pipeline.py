"""The training pipeline in one process: check data → prep → train → evaluate → register → promote."""

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from functools import partial
from pathlib import Path

import pandas as pd

from creditops.config.modelling import ModellingConfig
from creditops.modelling.estimators import TrainedModel
from creditops.report.build import card_for_candidate
from creditops.steps import common
from creditops.steps.data_prep import load_checked, prepare_checked
from creditops.steps.evaluate import Evaluation, evaluate
from creditops.steps.register import Registration, register
from creditops.steps.train import train
from creditops.tracking import registry
from creditops.tracking.runs import RunLog, Tracker, flatten
from creditops.tracking.store import tracking_uri
from creditops.workspace import workspace_root

STAGES = ("check data", "prep", "train", "evaluate", "register", "report", "promote")
StageListener = Callable[[str, float | None], None]
"""Called with a stage name and None when it starts, and with its seconds when it ends."""


@dataclass(frozen=True)
class PipelineFolders:
    """Where the steps write: the same folders the step modules take as flags."""

    data: Path
    model: Path
    evaluation: Path
    registry: Path

    @classmethod
    def under(cls, root: Path) -> "PipelineFolders":
        return cls(root / "prepared", root / "model", root / "evaluation", root / "registry")


@dataclass
class PipelineResult:
    """What the run produced, for the summary table and the benchmark."""

    data_manifest: dict = field(default_factory=dict)
    evaluation: Evaluation | None = None
    registration: Registration | None = None
    champion_version: str | None = None
    report: Path | None = None
    run_id: str | None = None
    seconds: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict:
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
        }


def run_pipeline(
    data_path: Path,
    config: ModellingConfig,
    *,
    folders: PipelineFolders | None = None,
    tracking: bool = True,
    promote: bool = True,
    on_stage: StageListener | None = None,
) -> PipelineResult:
    """Run every stage; a failing stage raises and leaves the registry and aliases as they were.

    `promote` moves the `champion` alias to a newly registered version (environments that need no
    approval, such as dev).
    """
    folders = folders or PipelineFolders.under(workspace_root() / "pipeline")
    store_uri = tracking_uri()
    tracker = Tracker(enabled=tracking, uri=store_uri)
    result = PipelineResult()
    timer = partial(_timed, result.seconds, on_stage or _ignore)
    with timer("check data"):
        frame, digest = load_checked(data_path)
    with timer("prep"):
        prepared = prepare_checked(frame, digest, data_path, folders.data, config)
        result.data_manifest = prepared.manifest
    with timer("train"):
        model, manifest, train_log = train(folders.data, folders.model, config)
    with timer("evaluate"):
        evaluation = evaluate(folders.data, folders.model, folders.evaluation, config, model, store_uri)
        result.evaluation = evaluation
    with tracker.run("pipeline") as run_id:
        result.run_id = run_id
        config_log = RunLog(params=flatten(config.model_dump(mode="json")))
        for log in (config_log, prepared.log, train_log, evaluation.log):
            tracker.record(log)
        with timer("register"):
            result.registration = register(
                folders.model, folders.evaluation, folders.registry, config, model, store_uri
            )
        with timer("report"):
            result.report = _report(prepared.test, model, manifest, config, result)
            tracker.record(RunLog(artifacts=(result.report,), artifact_folder="report"))
    with timer("promote"):
        result.champion_version = _promote(store_uri, config, result.registration, promote)
    return result


def _report(
    test: pd.DataFrame, model: TrainedModel, manifest: dict, config: ModellingConfig, result: PipelineResult
) -> Path:
    evaluation = result.evaluation
    champion = None if evaluation.champion_metrics is None else evaluation.champion_metrics["model_version"]
    lineage = {
        key: str(value)
        for key, value in {
            "git_commit": manifest["git_commit"],
            "data_file": manifest["data"]["data_file"],
            "data_sha256": manifest["data"]["data_sha256"],
            "config_hash": manifest["config_hash"],
            "algorithm": manifest["algorithm"],
            "mlflow run": result.run_id or "tracking off",
        }.items()
    }
    return card_for_candidate(
        model,
        test,
        config.registry.model_name,
        result.registration.version,
        config.eval.threshold,
        lineage,
        evaluation.champion_model,
        champion,
    )


def _promote(store_uri: str, config: ModellingConfig, registration: Registration, promote: bool) -> str | None:
    name = config.registry.model_name
    if promote and registration.registered and registration.version is not None:
        registry.set_alias(name, registry.CHAMPION, registration.version)
        common.log.info("promote: %s version %s is the champion", name, registration.version)
    champion = registry.champion(store_uri, name)
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
