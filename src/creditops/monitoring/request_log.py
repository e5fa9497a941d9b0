"""The request log: sampled scoring requests and answers, as JSON lines in bounded, rotating files.

One line per request (its rows as arrays), written with one unbuffered append, so a line is on disk
when the answer leaves. Each worker process writes its own file (no interleaving), rotated at
`max_bytes` with `backups` older files kept. Headers, and so the API key, are never logged.

Measured in benchmarks/bench_serving.py: logging's RotatingFileHandler costs ~20 % of the 1-row
throughput (a LogRecord, locks, a seek and a flush per line) and a QueueListener thread ~40 % (it
contends for the GIL); this plain append with a byte counter is what stays off the hot path.
"""

import atexit
import os
import random
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

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
        max_bytes: int = 20_000_000,
        backups: int = 5,
    ) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.path = directory / f"requests-{os.getpid()}.jsonl"
        self.sample_rate = sample_rate
        self.max_bytes = max_bytes
        self.backups = backups
        self.prefix = orjson.dumps({"deployment": deployment, "model_version": version})[:-1] + b","
        self.stream = self.path.open("ab", buffering=0)
        self.size = self.path.stat().st_size
        atexit.register(self.close)

    def record(self, features: np.ndarray, probability: np.ndarray, classes: np.ndarray) -> None:
        if self.sample_rate < 1.0 and random.random() >= self.sample_rate:  # nosec B311
            return
        body = orjson.dumps(
            {"t": time.time(), "features": features, "probability": probability, "class": classes},
            option=orjson.OPT_SERIALIZE_NUMPY,
        )
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
        for number in range(self.backups - 1, 0, -1):
            older = self.path.with_name(f"{self.path.name}.{number}")
            if older.exists():
                older.replace(self.path.with_name(f"{self.path.name}.{number + 1}"))
        if self.backups > 0:
            self.path.replace(self.path.with_name(f"{self.path.name}.1"))
        else:
            self.path.unlink()
        self.stream = self.path.open("ab", buffering=0)
        self.size = 0


def read(directory: Path, since: float) -> Iterator[dict[str, Any]]:
    """Every logged row at or after `since` (epoch seconds) in the folder, rotated files included."""
    for path in sorted(directory.rglob("requests-*.jsonl*")):
        with path.open("rb") as lines:
            for line in lines:
                if not line.strip():
                    continue
                entry = orjson.loads(line)
                if entry["t"] < since:
                    continue
                for row, probability, label in zip(
                    entry["features"], entry["probability"], entry["class"], strict=True
                ):
                    yield {
                        "t": entry["t"],
                        "deployment": entry["deployment"],
                        "model_version": entry["model_version"],
                        "features": row,
                        "probability": probability,
                        "class": label,
                    }
