"""register: when the new model is better, register it with lineage and write an MLflow model dir."""

from dataclasses import dataclass
from pathlib import Path

from creditops.config.modelling import ModellingConfig
from creditops.errors import CreditopsError
from creditops.files import read_json
from creditops.modelling.estimators import TrainedModel
from creditops.modelling.metrics import SCALAR_METRICS
from creditops.modelling.serialization import load_model
from creditops.steps import common
from creditops.tracking import registry
from creditops.tracking.runs import Tracker
from creditops.tracking.store import tracking_uri


@dataclass(frozen=True)
class Registration:
    """What register did: the new version (or the identical earlier one), or why nothing was registered."""

    registered: bool
    version: str | None
    reason: str


def register(
    model_dir: Path,
    eval_dir: Path,
    registry_dir: Path,
    config: ModellingConfig,
    model: TrainedModel | None = None,
    store_uri: str | None = None,
) -> Registration:
    """Register the model in `model_dir` if `eval_dir` says it is better; alias it `challenger`.

    The version is created with all its lineage tags in one registry call, after its artifacts are
    complete, so an interrupted run leaves either a whole version or none.
    """
    store_uri = store_uri or tracking_uri()
    settings = config.eval
    better = _read_flag(eval_dir / settings.better_than_last_file)
    comparison = read_json(eval_dir / common.COMPARISON_FILE)
    manifest = read_json(model_dir / common.MODEL_MANIFEST)
    name = config.registry.model_name
    identical = registry.find_by_fingerprint(store_uri, name, manifest["fingerprint"])
    if identical is not None:
        reason = f"nothing new registered: same data, config and code as version {identical.version}"
        return _skipped(reason, identical.version)
    if not better:
        return _skipped(f"nothing new registered: {comparison['reason']}")
    if model is None:
        model = load_model(model_dir / config.model.model_file, manifest["algorithm"])
    metrics = read_json(eval_dir / settings.eval_file)
    registry.save_model_dir(model, registry_dir / config.model.model_name)
    tags = {
        "git_commit": manifest["git_commit"],
        "data_sha256": manifest["data"]["data_sha256"],
        "data_file": manifest["data"]["data_file"],
        "config_hash": manifest["config_hash"],
        "algorithm": manifest["algorithm"],
        registry.FINGERPRINT_TAG: manifest["fingerprint"],
        registry.THRESHOLD_TAG: settings.threshold,
        "comparison": comparison["reason"],
        **{f"metric.{key}": f"{metrics[key]:.6f}" for key in SCALAR_METRICS},
    }
    with Tracker(enabled=True, uri=store_uri).run("register") as run_id:
        model_uri = registry.log_model(model)
        version = registry.register(model_uri, name, {**tags, "run_id": run_id or ""})
    registry.set_alias(name, registry.CHALLENGER, version.version)
    common.log.info("register: %s version %s (alias %s)", name, version.version, registry.CHALLENGER)
    return Registration(True, version.version, f"registered {name} version {version.version}")


def _skipped(reason: str, same_as: str | None = None) -> Registration:
    common.log.info("register: %s", reason)
    return Registration(False, same_as, reason)


def _read_flag(path: Path) -> bool:
    if not path.is_file():
        raise CreditopsError(f"{path} not found: run the evaluate step first")
    text = path.read_text(encoding="utf-8").strip()
    if text not in {"0", "1"}:
        raise CreditopsError(f"{path} must hold 1 or 0, not {text!r}")
    return text == "1"


def main(argv: list[str] | None = None) -> int:
    """python -m creditops.steps.register --model_dir M --eval_dir E --registry_dir R --config_file C"""
    parsed = common.parser("creditops.steps.register", "Register the model if it is better.")
    parsed.add_argument("--model_dir", type=Path, required=True, help="Folder of the model file")
    parsed.add_argument("--eval_dir", type=Path, required=True, help="Folder of the evaluation")
    parsed.add_argument("--registry_dir", type=Path, required=True, help="Folder for the MLflow model")

    def body(args, config: ModellingConfig) -> int:
        result = register(args.model_dir, args.eval_dir, args.registry_dir, config)
        print(result.reason)
        return 0

    return common.run_step(parsed, argv, body)


if __name__ == "__main__":
    raise SystemExit(main())
