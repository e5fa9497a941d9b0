"""data_prep: check the input data, split it (stratified, seeded) into the train and test files."""

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from creditops.config.modelling import ModellingConfig
from creditops.data.checks import ensure_valid
from creditops.data.contract import Contract
from creditops.data.io import read_table, write_table
from creditops.data.location import DataLocation, name_of, sha256
from creditops.data.split import split
from creditops.steps import common
from creditops.steps.manifests import DataManifest, write_manifest
from creditops.tracking import names
from creditops.tracking.runs import RunLog


@dataclass(frozen=True)
class Split:
    """The train and test parts of checked data, and what they were made from."""

    train: pd.DataFrame
    test: pd.DataFrame
    manifest: DataManifest
    log: RunLog
    evaluated_on: str | None = None
    """None: `test` is the whole test split (see the cluster's split, which evaluates on a sample)."""


def load_checked(path: DataLocation, contract: Contract) -> tuple[pd.DataFrame, str]:
    """The data at `path` (a local path or a URI) and its SHA-256, after every check of `contract` passed."""
    frame = read_table(path, contract)
    ensure_valid(frame, contract)
    return frame, sha256(path)


def prepare(frame: pd.DataFrame, digest: str, source: str, config: ModellingConfig, contract: Contract) -> Split:
    """Split data that passed its checks, with the manifest that says where it came from."""
    labels = contract.labels(frame)
    data = config.data
    train, test = split(frame, labels, test_ratio=data.test_train_ratio, seed=data.random_seed, source=source)
    manifest, log = split_record(
        digest, source, config, rows=len(frame), train_rows=len(train), defaults=int(labels.sum())
    )
    return Split(train, test, manifest, log)


def split_record(
    digest: str, source: str, config: ModellingConfig, *, rows: int, train_rows: int, defaults: int
) -> tuple[DataManifest, RunLog]:
    """The manifest of a split of `rows` rows (`defaults` of them defaults) and what to log about it,
    wherever the split was made."""
    manifest = DataManifest(
        data_file=source,
        data_sha256=digest,
        rows=rows,
        train_rows=train_rows,
        test_rows=rows - train_rows,
        default_rate=round(defaults / rows, 6),
        test_train_ratio=config.data.test_train_ratio,
        split_seed=config.data.random_seed,
    )
    common.log.info(
        "data_prep: %s rows (default rate %.2f%%) -> train %s, test %s",
        manifest.rows,
        100 * manifest.default_rate,
        manifest.train_rows,
        manifest.test_rows,
    )
    log = RunLog(
        params={"data.file": name_of(source), "data.test_train_ratio": config.data.test_train_ratio},
        metrics={
            "data.rows": manifest.rows,
            "data.default_rate": manifest.default_rate,
            "data.train_rows": train_rows,
            "data.test_rows": rows - train_rows,
        },
        tags={names.DATA_SHA256: digest},
    )
    return manifest, log


def write_split(prepared: Split, output_dir: Path, config: ModellingConfig) -> None:
    """The original data_prep's files: train and test CSVs (and the manifest, for lineage)."""
    write_table(prepared.train, output_dir / config.data.train_file)
    write_table(prepared.test, output_dir / config.data.test_file)
    write_manifest(output_dir, prepared.manifest)


def main(argv: list[str] | None = None) -> int:
    """python -m creditops.steps.data_prep --data_input_dir D --data_output_dir O --config_file C"""
    parsed = common.parser("creditops.steps.data_prep", "Check and split the input data.")
    parsed.add_argument("--data_input_dir", type=Path, required=True, help="Folder of data_file")
    parsed.add_argument("--data_output_dir", type=Path, required=True, help="Folder for the split")
    common.add_no_logging(parsed)

    def body(step: common.StepRun) -> int:
        source = step.args.data_input_dir / step.config.data.data_file
        contract = step.config.contract()
        frame, digest = load_checked(source, contract)
        prepared = prepare(frame, digest, str(source), step.config, contract)
        write_split(prepared, step.args.data_output_dir, step.config)
        step.record("data_prep", prepared.log)
        return 0

    return common.run_step(parsed, argv, body)


if __name__ == "__main__":
    raise SystemExit(main())
