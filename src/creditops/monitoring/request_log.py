"""The request log: sampled scoring requests and answers, as JSON lines in bounded, rotating files.

Each worker process writes its own file (no interleaving); logging's RotatingFileHandler keeps each
file under `max_bytes` with `backups` older files. Headers, and so the API key, are never logged.
"""

import logging
import os
import random
import time
from collections.abc import Iterator
from logging.handlers import RotatingFileHandler
from pathlib import Path

import numpy as np
import orjson


class RequestLog:
    """Appends one JSON line per scored row of a sampled request."""

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
        self.sample_rate = sample_rate
        self.deployment = deployment
        self.version = version
        handler = RotatingFileHandler(
            directory / f"requests-{os.getpid()}.jsonl", maxBytes=max_bytes, backupCount=backups, encoding="utf-8"
        )
        handler.setFormatter(logging.Formatter("%(message)s"))
        self.logger = logging.getLogger(f"creditops.requests.{deployment}.{os.getpid()}")
        self.logger.propagate = False
        self.logger.setLevel(logging.INFO)
        self.logger.handlers = [handler]

    def record(self, features: np.ndarray, probability: np.ndarray, classes: np.ndarray) -> None:
        if self.sample_rate < 1.0 and random.random() >= self.sample_rate:  # nosec B311
            return
        now = time.time()
        lines = [
            orjson.dumps(
                {
                    "t": now,
                    "deployment": self.deployment,
                    "model_version": self.version,
                    "features": row,
                    "probability": float(p),
                    "class": int(c),
                },
                option=orjson.OPT_SERIALIZE_NUMPY,
            ).decode()
            for row, p, c in zip(features, probability, classes, strict=True)
        ]
        self.logger.info("\n".join(lines))


def read(directory: Path, since: float) -> Iterator[dict]:
    """Every logged row at or after `since` (epoch seconds) in the folder, rotated files included."""
    for path in sorted(directory.rglob("requests-*.jsonl*")):
        with path.open("rb") as lines:
            for line in lines:
                if line.strip():
                    entry = orjson.loads(line)
                    if entry["t"] >= since:
                        yield entry
