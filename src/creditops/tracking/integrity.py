"""The SHA-256 of every file of a model: recorded when it is registered and approved, checked at every load.

A registered model's files can be replaced through MLflow's artifact API by any account that may edit
the model. A load that compares each file with the digests recorded beforehand refuses the swap, and
names the file, instead of serving it.
"""

import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Final

from creditops.errors import CreditopsError
from creditops.files import sha256_file

ADDED_ON_DOWNLOAD: Final = frozenset({"registered_model_meta"})
"""What MLflow writes into a registered version's folder as it downloads it (its name and version): not
part of the model, and never read to score."""


def file_digests(folder: Path) -> dict[str, str]:
    """Each file under `folder` (its path inside, with '/') and the SHA-256 of its bytes."""
    files = sorted(path for path in Path(folder).rglob("*") if path.is_file())
    named = ((path.relative_to(folder).as_posix(), path) for path in files)
    return {name: sha256_file(path) for name, path in named if name not in ADDED_ON_DOWNLOAD}


def combined(digests: Mapping[str, str]) -> str:
    """One SHA-256 for the whole model: of its files' paths and digests, in order."""
    lines = "".join(f"{name} {digests[name]}\n" for name in sorted(digests))
    return hashlib.sha256(lines.encode()).hexdigest()


def encode(digests: Mapping[str, str]) -> str:
    """The digests as the registry keeps them (a tag value)."""
    return json.dumps(dict(sorted(digests.items())), separators=(",", ":"))


def decode(text: str, where: str) -> dict[str, str]:
    """The digests a tag holds; a tag that is not such a record is refused, never read as "no files"."""
    try:
        found = json.loads(text)
    except ValueError as error:
        raise CreditopsError(f"{where} is not a record of model file digests: {error}") from error
    if not isinstance(found, dict) or not found or not all(isinstance(v, str) for v in found.values()):
        raise CreditopsError(f"{where} is not a record of model file digests")
    return {str(name): value for name, value in found.items()}


def verify(folder: Path, expected: Mapping[str, str], what: str, recorded: str) -> None:
    """Refuse, naming the first file that differs, unless `folder` holds exactly the files of `expected`."""
    actual = file_digests(folder)
    for name in sorted(set(expected) | set(actual)):
        if name not in actual:
            raise CreditopsError(f"model file {name} of {what} is missing (its digest was recorded {recorded})")
        if name not in expected:
            raise CreditopsError(f"model file {name} of {what} was not there when it was {recorded}: refusing it")
        if actual[name] != expected[name]:
            raise CreditopsError(
                f"model file {name} of {what} does not match the SHA-256 recorded {recorded}: it was changed"
                " since; refusing to load it (register the model again, or restore the file)"
            )
