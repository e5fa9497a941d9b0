"""The request log: sampled scoring requests and answers, as JSON lines in bounded, rotating files.

One line per request (its rows as arrays, and their IDs when the request carried them), written with one
unbuffered append, so a line is on disk when the answer leaves. Each worker process writes its own file
(no interleaving), rotated when it reaches a tenth of the folder's cap. The folder as a whole (every
deployment, every process, past ones included) is held under `total_bytes`: when a process starts and at
each rotation, the oldest files go first; a live process's own open file is never removed. Headers, and
so the API key, are never logged. The rows are customers' data: each file is readable by its owner only
(0600), in a folder only its owner may list (0700).

Measured in benchmarks/bench_serving.py: logging's RotatingFileHandler costs ~20 % of the 1-row
throughput (a LogRecord, locks, a seek and a flush per line) and a QueueListener thread ~40 % (it
contends for the GIL); this plain append with a byte counter is what stays off the hot path.
"""

import atexit
import contextlib
import os
import random
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO, Final

import numpy as np
import orjson


class RequestLog:
    """Appends one JSON line per sampled request to a size-bounded, rotating file."""

    def __init__(
        self,
        directory: Path,
        deployment: str,
        version: str,
        *,
        sample_rate: float = 1.0,
        total_bytes: int = 200_000_000,
    ) -> None:
        private_folder(directory)
        self.directory = directory
        self.path = directory / f"requests-{deployment}-{os.getpid()}.jsonl"
        self.sample_rate = sample_rate
        self.total_bytes = total_bytes
        self.max_bytes = max(_SMALLEST_FILE, min(_LARGEST_FILE, total_bytes // 10))
        self.rotations = 0
        enforce_cap(directory, total_bytes, keep=self.path)
        self.prefix = orjson.dumps({"deployment": deployment, "model_version": version})[:-1] + b","
        self.stream = _open_private(self.path)
        self.size = self.path.stat().st_size
        atexit.register(self.close)

    def record(
        self, features: np.ndarray, probability: np.ndarray, classes: np.ndarray, ids: list[Any] | None = None
    ) -> None:
        """Log one request's rows and answers, with the rows' IDs when the request carried them."""
        if self.sample_rate < 1.0 and random.random() >= self.sample_rate:  # nosec B311
            return
        entry = {"t": time.time(), "features": features, "probability": probability, "class": classes}
        if ids is not None:
            entry["id"] = ids
        body = orjson.dumps(entry, option=orjson.OPT_SERIALIZE_NUMPY)
        line = self.prefix + body[1:] + b"\n"
        if self.size + len(line) > self.max_bytes:
            self._rotate()
        self.stream.write(line)
        self.size += len(line)

    def close(self) -> None:
        """Close the file; safe to call twice."""
        self.stream.close()

    def _rotate(self) -> None:
        self.stream.close()
        self.rotations += 1
        self.path.replace(self.path.with_name(f"{self.path.name}.{self.rotations}"))
        self.stream = _open_private(self.path)
        self.size = 0
        enforce_cap(self.directory, self.total_bytes, keep=self.path)


_SMALLEST_FILE: Final = 4_096
_LARGEST_FILE: Final = 20_000_000
FILE_MODE: Final = 0o600
FOLDER_MODE: Final = 0o700


def private_folder(directory: Path) -> None:
    """Create `directory` for this user only. A folder already there is narrowed to 0700 only when it holds
    nothing but request logs (a folder of other things, say /tmp given as --request-log, is left alone); the
    request logs in it, older versions' included, are narrowed to 0600 either way."""
    directory.mkdir(mode=FOLDER_MODE, parents=True, exist_ok=True)
    if directory.stat().st_mode & 0o777 != FOLDER_MODE and all(
        path.name.startswith("requests-") for path in directory.iterdir()
    ):
        os.chmod(directory, FOLDER_MODE)
    for path in log_files(directory):
        with contextlib.suppress(OSError):  # removed meanwhile, or another user's
            if path.stat().st_mode & 0o777 != FILE_MODE:
                os.chmod(path, FILE_MODE)


def _open_private(path: Path) -> BinaryIO:
    """`path` opened for unbuffered appends, created 0600 (and a file an older version left 0644 narrowed)."""
    descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, FILE_MODE)
    os.fchmod(descriptor, FILE_MODE)
    return os.fdopen(descriptor, "ab", buffering=0)


def log_files(directory: Path) -> list[Path]:
    """Every request log file under `directory`, oldest first."""
    found = []
    for path in directory.rglob("requests-*.jsonl*"):
        with contextlib.suppress(FileNotFoundError):  # another process may remove it meanwhile
            found.append((path.stat().st_mtime, path))
    return [path for _, path in sorted(found)]


def enforce_cap(directory: Path, total_bytes: int, *, keep: Path) -> None:
    """Remove the oldest log files until the folder holds at most `total_bytes` (never `keep`)."""
    sizes = {}
    for path in log_files(directory):
        with contextlib.suppress(FileNotFoundError):
            sizes[path] = path.stat().st_size
    excess = sum(sizes.values()) - total_bytes
    for path, size in sizes.items():
        if excess <= 0:
            return
        if path == keep:
            continue
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        excess -= size


def read(directory: Path, since: float) -> Iterator[dict[str, Any]]:
    """Every logged row at or after `since` (epoch seconds) in the folder, rotated files included."""
    for path in log_files(directory):
        with contextlib.suppress(FileNotFoundError), path.open("rb") as lines:
            for line in lines:
                try:
                    entry = orjson.loads(line)
                except orjson.JSONDecodeError:  # an empty line, or one still being appended
                    continue
                if entry["t"] < since:
                    continue
                ids = entry.get("id") or [None] * len(entry["features"])
                for row, probability, label, row_id in zip(
                    entry["features"], entry["probability"], entry["class"], ids, strict=True
                ):
                    yield {
                        "id": row_id,
                        "t": entry["t"],
                        "deployment": entry["deployment"],
                        "model_version": entry["model_version"],
                        "features": row,
                        "probability": probability,
                        "class": label,
                    }
