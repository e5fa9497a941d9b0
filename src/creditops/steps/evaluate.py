"""evaluate: score the new model and the champion on the same test data; decide better_than_last."""

from dataclasses import asdict, dataclass
from pathlib import Path

from creditops.config.modelling import ModellingConfig
from creditops.data.io import read_table
from creditops.data.schema import LABEL
from creditops.files import read_json, write_json, write_text
from creditops.modelling.estimators import TrainedModel, feature_matrix
from creditops.modelling.metrics import (
    SCALAR_METRICS,
    Comparison,
    compare_with_champion,
    evaluate_predictions,
)
from creditops.modelling.plots import plot_confusion_matrix, plot_roc_curve
from creditops.modelling.serialization import load_model
from creditops.steps import common
from creditops.tracking import registry
from creditops.tracking.runs import RunLog
from creditops.tracking.store import tracking_uri


@dataclass(frozen=True)
class Evaluation:
    """The new model's metrics, the champion's (if any) and the verdict."""

    metrics: dict
    champion_metrics: dict | None
    comparison: Comparison
    log: RunLog
    champion_model: TrainedModel | None = None


def evaluate(
    data_dir: Path,
    model_dir: Path,
    eval_dir: Path,
    config: ModellingConfig,
    model: TrainedModel | None = None,
    store_uri: str | None = None,
) -> Evaluation:
    """Write the eval JSON, plots, the champion's eval JSON and better_than_last into `eval_dir`."""
    store_uri = store_uri or tracking_uri()
    frame = read_table(data_dir / config.data.eval_file)
    features, labels = feature_matrix(frame), frame[LABEL].to_numpy()
    if model is None:
        manifest = read_json(model_dir / common.MODEL_MANIFEST)
        model = load_model(model_dir / config.model.model_file, manifest["algorithm"])
    settings = config.eval
    probability = model.predict_proba(features)
    metrics = evaluate_predictions(labels, probability, settings.threshold)
    write_json(eval_dir / settings.eval_file, metrics)
    plot_confusion_matrix(metrics["confusion_matrix"], settings.threshold, eval_dir / common.CONFUSION_MATRIX_PNG)
    plot_roc_curve(labels, probability, metrics["roc_auc"], eval_dir / common.ROC_CURVE_PNG)

    champion = registry.champion(store_uri, config.registry.model_name)
    champion_metrics = None
    champion_model = None
    if champion is not None:
        champion_model = registry.load(store_uri, champion.uri)
        champion_metrics = evaluate_predictions(labels, champion_model.predict_proba(features), settings.threshold)
        champion_metrics["model_version"] = champion.version
    comparison = compare_with_champion(
        settings.primary_metric,
        metrics[settings.primary_metric],
        None if champion_metrics is None else champion_metrics[settings.primary_metric],
        None if champion is None else champion.version,
        settings.tolerance,
    )
    _write_verdict(eval_dir, config, champion_metrics, comparison)
    common.log.info(
        "evaluate: %s %.4f; %s",
        settings.primary_metric,
        metrics[settings.primary_metric],
        comparison.reason,
    )
    log = RunLog(
        metrics={f"test.{name}": metrics[name] for name in SCALAR_METRICS},
        tags={"better_than_last": int(comparison.better), "comparison": comparison.reason},
        artifacts=tuple(eval_dir / name for name in _output_names(config)),
        artifact_folder="evaluation",
    )
    return Evaluation(metrics, champion_metrics, comparison, log, champion_model)


def _write_verdict(
    eval_dir: Path, config: ModellingConfig, champion_metrics: dict | None, comparison: Comparison
) -> None:
    settings = config.eval
    last = champion_metrics or {"model_version": None, "reason": comparison.reason}
    write_json(eval_dir / settings.eval_file_last_model, last)
    write_json(eval_dir / common.COMPARISON_FILE, asdict(comparison))
    write_text(eval_dir / settings.better_than_last_file, "1" if comparison.better else "0")


def _output_names(config: ModellingConfig) -> list[str]:
    settings = config.eval
    return [
        settings.eval_file,
        settings.eval_file_last_model,
        settings.better_than_last_file,
        common.COMPARISON_FILE,
        common.CONFUSION_MATRIX_PNG,
        common.ROC_CURVE_PNG,
    ]


def main(argv: list[str] | None = None) -> int:
    """python -m creditops.steps.evaluate --data_dir O --model_dir M --eval_dir E --config_file C"""
    parsed = common.parser("creditops.steps.evaluate", "Evaluate the model against the champion.")
    parsed.add_argument("--data_dir", type=Path, required=True, help="Folder of the eval split")
    parsed.add_argument("--model_dir", type=Path, required=True, help="Folder of the model file")
    parsed.add_argument("--eval_dir", type=Path, required=True, help="Folder for the evaluation")
    common.add_no_logging(parsed)

    def body(args, config: ModellingConfig) -> int:
        result = evaluate(args.data_dir, args.model_dir, args.eval_dir, config)
        common.record("evaluate", result.log, enabled=not args.no_logging)
        print(f"better_than_last={int(result.comparison.better)}: {result.comparison.reason}")
        return 0

    return common.run_step(parsed, argv, body)


if __name__ == "__main__":
    raise SystemExit(main())
