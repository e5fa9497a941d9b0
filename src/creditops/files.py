"""Files written whole or not at all: every writer goes through a temporary path and a rename."""

import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any


@contextmanager
def atomic_path(target: Path) -> Iterator[Path]:
    """Yield a temporary path beside `target`; rename it onto `target` only if the block succeeds.

    Works for files and directories: whatever the block creates at the temporary path replaces the
    target, so readers see either the old content or the complete new one, never half of it.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    temporary = staging / target.name
    try:
        yield temporary
        if target.is_dir() and not target.is_symlink():
            retired = staging / f"{target.name}.old"
            target.rename(retired)
        os.replace(temporary, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def write_text(target: Path, text: str) -> Path:
    """Write `text` to `target` atomically."""
    with atomic_path(target) as temporary:
        temporary.write_text(text, encoding="utf-8")
    return target


def write_json(target: Path, payload: Any) -> Path:
    """Write `payload` as indented JSON to `target` atomically."""
    return write_text(target, json.dumps(payload, indent=2, sort_keys=False) + "\n")


def read_json(source: Path) -> Any:
    """The JSON content of `source`."""
    return json.loads(Path(source).read_text(encoding="utf-8"))


def sha256_file(path: Path) -> str:
    """The hex SHA-256 digest of a file's bytes."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
