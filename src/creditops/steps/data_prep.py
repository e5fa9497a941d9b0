"""data_prep: check the input data, split it (stratified, seeded) into the train and test files."""

from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from sklearn.model_selection import train_test_split

from creditops.config.modelling import ModellingConfig
from creditops.data.checks import ensure_valid
from creditops.data.io import read_table, write_table
from creditops.data.schema import LABEL
from creditops.files import sha256_file, write_json
from creditops.steps import common
from creditops.tracking.runs import RunLog


@dataclass(frozen=True)
class PreparedData:
    """The split and what it was made from."""

    train: pd.DataFrame
    test: pd.DataFrame
    manifest: dict
    log: RunLog


def load_checked(path: Path) -> tuple[pd.DataFrame, str]:
    """The data at `path` and its SHA-256, after every data check passed."""
    frame = read_table(path)
    ensure_valid(frame)
    return frame, sha256_file(path)


def split(frame: pd.DataFrame, *, test_ratio: float, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A stratified train/test split of `frame`, the same for the same seed."""
    train, test = train_test_split(frame, test_size=test_ratio, random_state=seed, stratify=frame[LABEL])
    return train.sort_index(), test.sort_index()


def prepare(source: Path, output_dir: Path, config: ModellingConfig) -> PreparedData:
    """Check `source`, split it, write the train and test files and the data manifest."""
    frame, digest = load_checked(source)
    return prepare_checked(frame, digest, source, output_dir, config)


def prepare_checked(
    frame: pd.DataFrame,
    digest: str,
    source: Path,
    output_dir: Path,
    config: ModellingConfig,
) -> PreparedData:
    """Split data that passed its checks; write the train and test files and the data manifest."""
    train, test = split(frame, test_ratio=config.data.test_train_ratio, seed=config.data.random_seed)
    manifest = {
        "data_file": str(source),
        "data_sha256": digest,
        "rows": len(frame),
        "train_rows": len(train),
        "test_rows": len(test),
        "default_rate": round(float(frame[LABEL].mean()), 6),
        "test_train_ratio": config.data.test_train_ratio,
        "split_seed": config.data.random_seed,
    }
    write_table(train, output_dir / config.data.train_file)
    write_table(test, output_dir / config.data.test_file)
    write_json(output_dir / common.DATA_MANIFEST, manifest)
    common.log.info(
        "data_prep: %s rows (default rate %.2f%%) -> train %s, test %s",
        manifest["rows"],
        100 * manifest["default_rate"],
        manifest["train_rows"],
        manifest["test_rows"],
    )
    log = RunLog(
        params={"data.file": source.name, "data.test_train_ratio": config.data.test_train_ratio},
        metrics={f"data.{key}": manifest[key] for key in ("rows", "default_rate", "train_rows", "test_rows")},
        tags={"data_sha256": digest},
    )
    return PreparedData(train, test, manifest, log)


def main(argv: list[str] | None = None) -> int:
    """python -m creditops.steps.data_prep --data_input_dir D --data_output_dir O --config_file C"""
    parsed = common.parser("creditops.steps.data_prep", "Check and split the input data.")
    parsed.add_argument("--data_input_dir", type=Path, required=True, help="Folder of data_file")
    parsed.add_argument("--data_output_dir", type=Path, required=True, help="Folder for the split")
    common.add_no_logging(parsed)

    def body(args, config: ModellingConfig) -> int:
        prepared = prepare(args.data_input_dir / config.data.data_file, args.data_output_dir, config)
        common.record("data_prep", prepared.log, enabled=not args.no_logging)
        return 0

    return common.run_step(parsed, argv, body)


if __name__ == "__main__":
    raise SystemExit(main())
