"""register: when the new model is better, register it with lineage and write an MLflow model dir."""

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from creditops.config.modelling import ModellingConfig
from creditops.errors import CreditopsError
from creditops.files import read_json
from creditops.modelling.estimators import TrainedModel
from creditops.modelling.metrics import SCALAR_METRICS
from creditops.modelling.serialization import load_model
from creditops.steps import common
from creditops.steps.manifests import MODEL_MANIFEST, ModelManifest, read_model_manifest
from creditops.tracking import names
from creditops.tracking.registry import Registry, log_model, save_model_dir
from creditops.tracking.runs import Tracker


@dataclass(frozen=True)
class Registration:
    """What register did: the new version (or the identical earlier one), or why nothing was registered."""

    registered: bool
    version: str | None
    reason: str


@dataclass(frozen=True)
class Verdict:
    """What evaluate decided about the model: better or not, why, and its metrics."""

    better: bool
    reason: str
    metrics: dict[str, Any]


def lineage_tags(manifest: ModelManifest) -> dict[str, str]:
    """The registry tags that say where a version came from (names.LINEAGE, in that order)."""
    values = {
        names.GIT_COMMIT: manifest.git_commit,
        names.DATA_FILE: manifest.data.data_file,
        names.DATA_SHA256: manifest.data.data_sha256,
        names.CONFIG_HASH: manifest.config_hash,
        names.ALGORITHM: manifest.algorithm,
        names.FINGERPRINT: manifest.fingerprint,
    }
    return {key: values[key] for key in names.LINEAGE}


def register(
    registry: Registry,
    model: TrainedModel,
    manifest: ModelManifest,
    verdict: Verdict,
    config: ModellingConfig,
    registry_dir: Path | None = None,
) -> Registration:
    """Register `model` if the verdict says it is better; alias it `challenger`.

    The version is created with all its lineage tags in one registry call, after its artifacts are
    complete, so an interrupted run leaves either a whole version or none. `registry_dir` also gets an
    MLflow model directory (the original register's output).
    """
    name = config.registry.model_name
    with registry.registration_lock(name):
        identical = registry.find_by_fingerprint(name, manifest.fingerprint)
        if identical is not None:
            reason = f"nothing new registered: same data, config and code as version {identical.version}"
            return _skipped(reason, identical.version)
        if not verdict.better:
            return _skipped(f"nothing new registered: {verdict.reason}")
        if registry_dir is not None:
            save_model_dir(model, registry_dir / config.model.model_name)
        tags = {
            **lineage_tags(manifest),
            names.THRESHOLD: str(config.eval.threshold),
            names.COMPARISON: verdict.reason,
            names.REGISTERED_BY: registry.registrant,
            **{names.metric_tag(key): f"{verdict.metrics[key]:.6f}" for key in (*SCALAR_METRICS, "default_rate")},
        }
        with Tracker(enabled=True, uri=registry.uri).run("register") as run_id:
            model_uri = log_model(model)
            version = registry.register(model_uri, name, {**tags, names.RUN_ID: run_id or ""})
        first = registry.find_by_fingerprint(name, manifest.fingerprint)
        if first is not None and first.version != version.version:
            registry.delete_version(name, version.version)  # a run on another machine got there first
            reason = f"nothing new registered: same data, config and code as version {first.version} (a concurrent run)"
            return _skipped(reason, first.version)
        registry.set_alias(name, names.CHALLENGER, version.version)
    common.log.info("register: %s version %s (alias %s)", name, version.version, names.CHALLENGER)
    return Registration(True, version.version, f"registered {name} version {version.version}")


def _skipped(reason: str, same_as: str | None = None) -> Registration:
    common.log.info("register: %s", reason)
    return Registration(False, same_as, reason)


def read_verdict(eval_dir: Path, config: ModellingConfig) -> Verdict:
    """What the evaluate step wrote into `eval_dir`."""
    settings = config.eval
    flag = eval_dir / settings.better_than_last_file
    if not flag.is_file():
        raise CreditopsError(f"{flag} not found: run the evaluate step first")
    text = flag.read_text(encoding="utf-8").strip()
    if text not in {"0", "1"}:
        raise CreditopsError(f"{flag} must hold 1 or 0, not {text!r}")
    comparison = eval_dir / common.COMPARISON_FILE
    reason = read_json(comparison)["reason"] if comparison.is_file() else f"better_than_last={text}"
    return Verdict(text == "1", reason, read_json(eval_dir / settings.eval_file))


def main(argv: list[str] | None = None) -> int:
    """python -m creditops.steps.register --model_dir M --eval_dir E --registry_dir R --config_file C"""
    parsed = common.parser("creditops.steps.register", "Register the model if it is better.")
    parsed.add_argument("--model_dir", type=Path, required=True, help="Folder of the model file")
    parsed.add_argument("--eval_dir", type=Path, required=True, help="Folder of the evaluation")
    parsed.add_argument("--registry_dir", type=Path, required=True, help="Folder for the MLflow model")

    def body(step: common.StepRun) -> int:
        config, model_dir = step.config, step.args.model_dir
        verdict = read_verdict(step.args.eval_dir, config)
        manifest = read_model_manifest(model_dir)
        if manifest is None:
            raise CreditopsError(
                f"{model_dir / MODEL_MANIFEST} not found: register needs the lineage that creditops' train step"
                f" writes; run 'python -m creditops.steps.train --model_dir {model_dir} …' first"
            )
        model = load_model(model_dir / config.model.model_file, config.contract())
        registry = Registry(step.context.store_uri, step.context.authenticated_user)
        result = register(registry, model, manifest, verdict, config, step.args.registry_dir)
        print(result.reason)
        return 0

    return common.run_step(parsed, argv, body)


if __name__ == "__main__":
    raise SystemExit(main())
