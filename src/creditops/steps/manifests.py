"""The records the steps hand on: what data a model saw and what model a run trained.

Each is built in one place (its step) and read in one place (`read_*` here), as JSON beside the step's
files when a step runs alone, and as values in memory when the pipeline runs the steps in one process.
"""

from pathlib import Path
from typing import Any, Final, TypeVar

from pydantic import BaseModel, ConfigDict

from creditops.errors import CreditopsError
from creditops.files import read_json, write_json

DATA_MANIFEST: Final = "data_manifest.json"
MODEL_MANIFEST: Final = "model_manifest.json"


class _Record(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


Record = TypeVar("Record", bound=_Record)


class DataManifest(_Record):
    """The data a split was made from: its file, digest and sizes."""

    data_file: str
    data_sha256: str
    rows: int
    train_rows: int | None = None
    test_rows: int | None = None
    default_rate: float
    test_train_ratio: float | None = None
    split_seed: int | None = None


class ModelManifest(_Record):
    """A trained model's lineage: algorithm and parameters, data, config, code and their fingerprint."""

    algorithm: str
    params: dict[str, Any]
    features: list[str]
    train_rows: int
    data: DataManifest
    config_hash: str
    git_commit: str
    fingerprint: str


def write_manifest(folder: Path, record: DataManifest | ModelManifest) -> Path:
    name = DATA_MANIFEST if isinstance(record, DataManifest) else MODEL_MANIFEST
    return write_json(folder / name, record.model_dump(mode="json"))


def read_data_manifest(folder: Path) -> DataManifest | None:
    """The data manifest data_prep wrote into `folder`; None where the split came from elsewhere."""
    return _read(folder / DATA_MANIFEST, DataManifest)


def read_model_manifest(folder: Path) -> ModelManifest | None:
    """The model manifest train wrote into `folder`; None for a model trained elsewhere."""
    return _read(folder / MODEL_MANIFEST, ModelManifest)


def _read(path: Path, kind: type[Record]) -> Record | None:
    if not path.is_file():
        return None
    try:
        return kind.model_validate(read_json(path))
    except (ValueError, OSError) as error:
        first = str(error).splitlines()[0]
        raise CreditopsError(f"{path} is not a valid {kind.__name__}: {first}; run its step again") from error
