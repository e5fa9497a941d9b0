"""The request log: sampled scoring requests and answers, as JSON lines in bounded, rotating files.

One line per request (its rows as arrays). The scoring path only encodes the line and puts it on a
queue (logging's QueueHandler); a QueueListener thread writes it through a RotatingFileHandler, which
keeps each worker's own file under `max_bytes` with `backups` older files. Headers, and so the API
key, are never logged.
"""

import atexit
import logging
import os
import queue
import random
import time
from collections.abc import Iterator
from logging.handlers import QueueHandler, QueueListener, RotatingFileHandler
from pathlib import Path

import numpy as np
import orjson


class RequestLog:
    """Appends one JSON line per sampled request, off the scoring path."""

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
        records: queue.SimpleQueue = queue.SimpleQueue()
        self.listener = QueueListener(records, handler)
        self.listener.start()
        self.writing = True
        atexit.register(self.close)
        self.logger = logging.getLogger(f"creditops.requests.{deployment}.{os.getpid()}")
        self.logger.propagate = False
        self.logger.setLevel(logging.INFO)
        self.logger.handlers = [QueueHandler(records)]

    def close(self) -> None:
        """Write what is queued and stop the writer thread; safe to call twice."""
        if self.writing:
            self.writing = False
            self.listener.stop()

    def record(self, features: np.ndarray, probability: np.ndarray, classes: np.ndarray) -> None:
        if self.sample_rate < 1.0 and random.random() >= self.sample_rate:  # nosec B311
            return
        line = {
            "t": time.time(),
            "deployment": self.deployment,
            "model_version": self.version,
            "features": features,
            "probability": probability,
            "class": classes,
        }
        self.logger.info(orjson.dumps(line, option=orjson.OPT_SERIALIZE_NUMPY).decode())


def read(directory: Path, since: float) -> Iterator[dict]:
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
