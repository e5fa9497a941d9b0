"""Files written whole or not at all: every writer goes through a temporary path and a rename."""

import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from creditops.errors import CreditopsError


@contextmanager
def atomic_path(target: Path) -> Iterator[Path]:
    """Yield a temporary path beside `target`; rename it onto `target` only if the block succeeds.

    Works for files and directories: whatever the block creates at the temporary path replaces the
    target, so readers see either the old content or the complete new one, never half of it. A file never
    replaces a folder, and nothing replaces a device, pipe or socket (`--out /dev/null`, `--out reports/`):
    one line naming the path, and nothing moved.
    """
    target = Path(target)
    if target.exists() and not (target.is_file() or target.is_dir()):
        raise CreditopsError(f"{target} is not a regular file (a device, pipe or socket): give a file path")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        if target.parent.is_file():
            raise CreditopsError(f"{target.parent} is a file, not a folder: put {target.name} in a folder") from None
        raise
    sweep_dead(target.parent, f".{target.name}.")  # staging left by a writer killed before it renamed
    try:
        staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.{os.getpid()}-", dir=target.parent))
    except OSError as error:  # the folder is not writable: name the path asked for, not the temporary one
        raise OSError(error.errno, error.strerror, str(target)) from None
    temporary = staging / target.name
    try:
        yield temporary
        if target.is_dir() and not temporary.is_dir():
            raise CreditopsError(f"{target} is a folder: give a file path, not a folder (nothing was written)")
        if target.is_dir() and not target.is_symlink():
            retired = staging / f"{target.name}.old"
            target.rename(retired)
        os.replace(temporary, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def write_text(target: Path, text: str, mode: int | None = None) -> Path:
    """Write `text` to `target` atomically; with `mode`, the file has it before it appears at `target`."""
    with atomic_path(target) as temporary:
        temporary.write_text(text, encoding="utf-8")
        if mode is not None:
            os.chmod(temporary, mode)
    return target


def write_json(target: Path, payload: Any) -> Path:
    """Write `payload` as indented JSON to `target` atomically."""
    return write_text(target, json.dumps(payload, indent=2, sort_keys=False) + "\n")


def read_json(source: Path) -> Any:
    """The JSON content of `source`."""
    return json.loads(Path(source).read_text(encoding="utf-8"))


def sha256_file(path: Path) -> str:
    """The hex SHA-256 digest of a file's bytes."""
    with Path(path).open("rb") as handle:
        return sha256_stream(handle)


def sha256_stream(handle: IO[bytes]) -> str:
    """The hex SHA-256 digest of the bytes left in `handle`, read a megabyte at a time (a local file or one
    opened through fsspec: the one way creditops hashes data)."""
    digest = hashlib.sha256()
    for block in iter(lambda: handle.read(1 << 20), b""):
        digest.update(block)
    return digest.hexdigest()


@contextmanager
def scratch_dir(prefix: str, parent: Path | None = None) -> Iterator[Path]:
    """A private folder, removed when the block ends.

    Its name carries this process's id, and the folders of the same prefix whose process is gone are
    removed first: a process killed with SIGKILL cannot clean up, so the next one does.
    """
    base = Path(parent) if parent is not None else Path(tempfile.gettempdir())
    base.mkdir(parents=True, exist_ok=True)
    sweep_dead(base, prefix)
    path = Path(tempfile.mkdtemp(prefix=f"{prefix}{os.getpid()}-", dir=base))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def sweep_dead(base: Path, prefix: str) -> None:
    """Remove the scratch folders under `base` that processes now gone left behind."""
    for path in base.glob(f"{prefix}*-*"):
        owner = path.name.removeprefix(prefix).split("-", 1)[0]
        if owner.isdigit() and not process_exists(int(owner)):
            shutil.rmtree(path, ignore_errors=True)


def process_exists(pid: int) -> bool:
    """Whether a process with this id exists (another user's counts)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@contextmanager
def exclusive_lock(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on `path` (created if absent) for the block; other processes wait.

    An advisory `flock`: the kernel drops it when the holder exits, so a killed holder never leaves
    the lock taken.
    """
    import fcntl

    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@contextmanager
def claimed_lock(path: Path, holder: str) -> Iterator[None]:
    """Hold an exclusive lock on `path` for the block, or fail at once naming who holds it.

    The holder writes `holder` into the lock file, so the one refused can say what is running.
    """
    import fcntl

    from creditops.errors import CreditopsError

    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            raise CreditopsError(handle.read().strip() or f"{path} is locked by another process") from None
        try:
            handle.truncate(0)
            handle.write(holder)
            handle.flush()
            yield
        finally:
            handle.truncate(0)
            fcntl.flock(handle, fcntl.LOCK_UN)
