"""A Dask cluster as separate machines would run one: a `dask scheduler` and two `dask worker` processes."""

import contextlib
import os
import signal
import subprocess  # nosec B404
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from creditops.processes import free_port

distributed = pytest.importorskip("distributed")
BIN = Path(sys.executable).parent


def _start(command: list[str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as output:
        return subprocess.Popen(  # nosec B603
            command, stdout=output, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True
        )


@pytest.fixture
def dask_cluster(tmp_path: Path) -> Iterator[str]:
    """A `dask scheduler` and two `dask worker` processes (one thread each), each in its own process group,
    killed at the end whatever happened."""
    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    started = [
        _start(
            [str(BIN / "dask"), "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"],
            tmp_path / "scheduler.log",
        )
    ]
    try:
        for number in range(2):
            command = [str(BIN / "dask"), "worker", address, "--nthreads", "1", "--nworkers", "1"]
            command += ["--host", "127.0.0.1", "--no-dashboard", "--memory-limit", "2GiB"]
            started.append(_start(command, tmp_path / f"worker-{number}.log"))
        with distributed.Client(address, timeout=30) as client:
            client.wait_for_workers(2, timeout=60)
        yield address
    finally:
        for process in started:
            with_signal(process, signal.SIGTERM)
        deadline = time.monotonic() + 10
        for process in started:
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                with_signal(process, signal.SIGKILL)
                process.wait(timeout=10)


def with_signal(process: subprocess.Popen[bytes], number: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, number)
