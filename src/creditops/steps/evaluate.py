"""evaluate: score the new model and the champion on the same test data; decide better_than_last."""

from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from creditops.config.modelling import ModellingConfig
from creditops.files import write_json, write_text
from creditops.modelling.estimators import TrainedModel
from creditops.modelling.learners.base import training_threads
from creditops.modelling.metrics import SCALAR_METRICS, Comparison, compare_with_champion, evaluate_predictions
from creditops.modelling.plots import plot_confusion_matrix, plot_roc_curve
from creditops.modelling.serialization import load_model
from creditops.steps import common
from creditops.steps.train import read_split_part
from creditops.tracking import names
from creditops.tracking.registry import Registry
from creditops.tracking.runs import RunLog


@dataclass(frozen=True)
class Champion:
    """The model in production (alias `champion`, else the latest version) and its version."""

    model: TrainedModel
    version: str


@dataclass(frozen=True)
class Evaluation:
    """The new model's metrics and scores, the champion's metrics (if any) and the verdict."""

    metrics: dict[str, Any]
    champion_metrics: dict[str, Any] | None
    comparison: Comparison
    log: RunLog
    probability: np.ndarray
    labels: np.ndarray
    champion: Champion | None = None

    @property
    def champion_model(self) -> TrainedModel | None:
        return None if self.champion is None else self.champion.model


def find_champion(registry: Registry, name: str) -> Champion | None:
    found = registry.champion(name)
    return None if found is None else Champion(registry.load(found), found.version)


def evaluate(model: TrainedModel, test: pd.DataFrame, champion: Champion | None, config: ModellingConfig) -> Evaluation:
    """Score `model` and the champion on `test`, each reading its own contract's columns; better_than_last
    by the configured metric and tolerance."""
    labels = model.contract.labels(test)
    settings = config.eval
    threads = training_threads(len(test))
    probability = model.predict_proba(test, threads=threads)
    metrics = evaluate_predictions(labels, probability, settings.threshold)
    champion_metrics = None
    if champion is not None:
        champion_probability = champion.model.predict_proba(test, threads=threads)
        champion_metrics = evaluate_predictions(labels, champion_probability, settings.threshold)
        champion_metrics["model_version"] = champion.version
    comparison = compare_with_champion(
        settings.primary_metric,
        metrics[settings.primary_metric],
        None if champion_metrics is None else champion_metrics[settings.primary_metric],
        None if champion is None else champion.version,
        settings.tolerance,
    )
    common.log.info(
        "evaluate: %s %.4f; %s", settings.primary_metric, metrics[settings.primary_metric], comparison.reason
    )
    log = RunLog(
        metrics={f"test.{name}": metrics[name] for name in SCALAR_METRICS},
        tags={"better_than_last": int(comparison.better), names.COMPARISON: comparison.reason},
    )
    return Evaluation(metrics, champion_metrics, comparison, log, probability, labels, champion)


def write_evaluation(evaluation: Evaluation, eval_dir: Path, config: ModellingConfig) -> RunLog:
    """The original evaluate's files (metrics JSON, the champion's, better_than_last) plus the verdict
    and two plots; returns them as artifacts to log."""
    settings = config.eval
    metrics, comparison = evaluation.metrics, evaluation.comparison
    last = evaluation.champion_metrics or {"model_version": None, "reason": comparison.reason}
    written = (
        write_json(eval_dir / settings.eval_file, metrics),
        write_json(eval_dir / settings.eval_file_last_model, last),
        write_text(eval_dir / settings.better_than_last_file, "1" if comparison.better else "0"),
        write_json(eval_dir / common.COMPARISON_FILE, asdict(comparison)),
        plot_confusion_matrix(metrics["confusion_matrix"], settings.threshold, eval_dir / common.CONFUSION_MATRIX_PNG),
        plot_roc_curve(evaluation.labels, evaluation.probability, metrics["roc_auc"], eval_dir / common.ROC_CURVE_PNG),
    )
    return RunLog(artifacts=written, artifact_folder="evaluation")


def main(argv: list[str] | None = None) -> int:
    """python -m creditops.steps.evaluate --data_dir O --model_dir M --eval_dir E --config_file C"""
    parsed = common.parser("creditops.steps.evaluate", "Evaluate the model against the champion.")
    parsed.add_argument("--data_dir", type=Path, required=True, help="Folder of the eval split")
    parsed.add_argument("--model_dir", type=Path, required=True, help="Folder of the model file")
    parsed.add_argument("--eval_dir", type=Path, required=True, help="Folder for the evaluation")
    common.add_no_logging(parsed)
    common.add_allow_pickle(parsed)

    def body(step: common.StepRun) -> int:
        config = step.config
        contract = config.contract()
        test, _ = read_split_part(step.args.data_dir, config.data.eval_file, contract)
        model = load_model(step.args.model_dir / config.model.model_file, contract, allow_pickle=step.allow_pickle)
        champion = find_champion(Registry(step.context.store_uri), config.registry.model_name)
        result = evaluate(model, test, champion, config)
        written = write_evaluation(result, step.args.eval_dir, config)
        step.record(
            "evaluate", replace(result.log, artifacts=written.artifacts, artifact_folder=written.artifact_folder)
        )
        print(f"better_than_last={int(result.comparison.better)}: {result.comparison.reason}")
        return 0

    return common.run_step(parsed, argv, body)


if __name__ == "__main__":
    raise SystemExit(main())
