"""train: fit the classifier on the train split and write the model file and its manifest."""

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from creditops.config.modelling import ModellingConfig
from creditops.data.contract import Contract
from creditops.data.io import read_table
from creditops.errors import CreditopsError
from creditops.files import sha256_file
from creditops.modelling.estimators import TrainedModel, train_model
from creditops.modelling.serialization import save_model
from creditops.steps import common
from creditops.steps.manifests import DataManifest, ModelManifest, read_data_manifest, write_manifest
from creditops.tracking import names
from creditops.tracking.lineage import fingerprint, git_commit
from creditops.tracking.runs import RunLog


@dataclass(frozen=True)
class Training:
    """A fitted model with its lineage manifest and what to log about it."""

    model: TrainedModel
    manifest: ModelManifest
    log: RunLog


def train(
    frame: pd.DataFrame, data: DataManifest, config: ModellingConfig, commit: str, contract: Contract
) -> Training:
    """Fit the configured learner on the features of `contract` in `frame` (the train split of `data`), built
    from code at `commit`; the model carries the contract."""
    settings = config.train
    model = train_model(
        contract.feature_matrix(frame, np.float32),
        contract.labels(frame),
        contract=contract,
        algorithm=settings.algorithm,
        params=settings.learner_params().model_dump(),
        seed=settings.random_seed,
    )
    return training_record(model, len(frame), data, config, commit)


def training_record(
    model: TrainedModel, train_rows: int, data: DataManifest, config: ModellingConfig, commit: str
) -> Training:
    """`model`, fitted as `config` says on `train_rows` rows of `data` from code at `commit`, with its
    manifest and what to log (wherever it was fitted)."""
    settings = config.train
    params: dict[str, str | int | float] = {
        "algorithm": settings.algorithm,
        **settings.learner_params().model_dump(),
        "seed": settings.random_seed,
    }
    config_hash = config.digest()
    manifest = ModelManifest(
        algorithm=settings.algorithm,
        params=params,
        features=list(model.contract.features),
        train_rows=train_rows,
        data=data,
        config_hash=config_hash,
        git_commit=commit,
        fingerprint=fingerprint(data_sha256=data.data_sha256, config_hash=config_hash, commit=commit),
    )
    common.log.info("train: %s on %s rows", settings.algorithm, train_rows)
    log = RunLog(
        params={f"train.{key}": value for key, value in params.items()},
        tags={names.GIT_COMMIT: commit, names.CONFIG_HASH: config_hash},
    )
    return Training(model, manifest, log)


def read_split_part(data_dir: Path, file_name: str, contract: Contract) -> tuple[pd.DataFrame, Path]:
    """One file of a split written by data_prep (this one or the original)."""
    path = data_dir / file_name
    if not path.is_file():
        raise CreditopsError(f"{path} not found: run data_prep into {data_dir} first")
    return read_table(path, contract), path


def data_of(data_dir: Path, frame: pd.DataFrame, path: Path, contract: Contract) -> DataManifest:
    """The data manifest beside a split; for a split the original data_prep wrote (no manifest), the
    split file itself stands for the data."""
    manifest = read_data_manifest(data_dir)
    if manifest is not None:
        return manifest
    return DataManifest(
        data_file=str(path),
        data_sha256=sha256_file(path),
        rows=len(frame),
        default_rate=round(float(contract.labels(frame).mean()), 6),
    )


def main(argv: list[str] | None = None) -> int:
    """python -m creditops.steps.train --data_dir O --model_dir M --config_file C [--no_logging]"""
    parsed = common.parser("creditops.steps.train", "Train the credit-default model.")
    parsed.add_argument("--data_dir", type=Path, required=True, help="Folder of the train split")
    parsed.add_argument("--model_dir", type=Path, required=True, help="Folder for the model file")
    common.add_no_logging(parsed)

    def body(step: common.StepRun) -> int:
        config, data_dir, model_dir = step.config, step.args.data_dir, step.args.model_dir
        contract = config.contract()
        frame, path = read_split_part(data_dir, config.data.train_file, contract)
        commit = git_commit(override=step.context.commit_override)
        trained = train(frame, data_of(data_dir, frame, path, contract), config, commit, contract)
        save_model(trained.model, model_dir / config.model.model_file)
        write_manifest(model_dir, trained.manifest)
        step.record("train", trained.log)
        return 0

    return common.run_step(parsed, argv, body)


if __name__ == "__main__":
    raise SystemExit(main())
