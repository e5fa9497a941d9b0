"""train: fit the classifier on the train split and write the model file and its manifest."""

from pathlib import Path

from creditops.config.modelling import ModellingConfig
from creditops.data.io import read_table
from creditops.data.schema import FEATURES, LABEL
from creditops.errors import CreditopsError
from creditops.files import read_json, write_json
from creditops.modelling.estimators import TrainedModel, feature_matrix, train_model
from creditops.modelling.serialization import save_model
from creditops.steps import common
from creditops.tracking.lineage import fingerprint, git_commit
from creditops.tracking.runs import RunLog


def train(data_dir: Path, model_dir: Path, config: ModellingConfig) -> tuple[TrainedModel, dict, RunLog]:
    """Train on `data_dir`'s train file; write the model file and manifest into `model_dir`."""
    data_manifest = _data_manifest(data_dir)
    frame = read_table(data_dir / config.data.train_file)
    settings = config.train
    params = {
        "algorithm": settings.algorithm,
        "n_estimators": settings.n_estimators,
        "learning_rate": settings.learning_rate,
        "num_leaves": settings.num_leaves,
        "max_depth": settings.max_depth,
        "seed": settings.random_seed,
    }
    model = train_model(
        feature_matrix(frame),
        frame[LABEL].to_numpy(),
        algorithm=settings.algorithm,
        n_estimators=settings.n_estimators,
        learning_rate=settings.learning_rate,
        num_leaves=settings.num_leaves,
        max_depth=settings.max_depth,
        seed=settings.random_seed,
    )
    commit = git_commit()
    config_hash = config.digest()
    manifest = {
        "algorithm": settings.algorithm,
        "params": params,
        "features": list(FEATURES),
        "train_rows": len(frame),
        "data": data_manifest,
        "config_hash": config_hash,
        "git_commit": commit,
        "fingerprint": fingerprint(data_sha256=data_manifest["data_sha256"], config_hash=config_hash, commit=commit),
    }
    save_model(model, model_dir / config.model.model_file)
    write_json(model_dir / common.MODEL_MANIFEST, manifest)
    common.log.info("train: %s with %s trees on %s rows", settings.algorithm, settings.n_estimators, len(frame))
    log = RunLog(
        params={f"train.{key}": value for key, value in params.items()},
        tags={"git_commit": commit, "config_hash": config_hash},
    )
    return model, manifest, log


def _data_manifest(data_dir: Path) -> dict:
    path = data_dir / common.DATA_MANIFEST
    if not path.is_file():
        raise CreditopsError(f"{path} not found: run data_prep into {data_dir} first")
    return read_json(path)


def main(argv: list[str] | None = None) -> int:
    """python -m creditops.steps.train --data_dir O --model_dir M --config_file C [--no_logging]"""
    parsed = common.parser("creditops.steps.train", "Train the credit-default model.")
    parsed.add_argument("--data_dir", type=Path, required=True, help="Folder of the train split")
    parsed.add_argument("--model_dir", type=Path, required=True, help="Folder for the model file")
    common.add_no_logging(parsed)

    def body(args, config: ModellingConfig) -> int:
        *_, log = train(args.data_dir, args.model_dir, config)
        common.record("train", log, enabled=not args.no_logging)
        return 0

    return common.run_step(parsed, argv, body)


if __name__ == "__main__":
    raise SystemExit(main())
