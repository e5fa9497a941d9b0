"""`creditops ui`: MLflow's UI on a workspace's store, stopped with Ctrl-C, and refused with no store."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import mlflow
import pytest

from creditops import processes
from creditops.cli import main
from creditops.context import from_process

pytestmark = pytest.mark.e2e


def test_ui_serves_the_store_and_stops_on_ctrl_c(workspace: Path) -> None:
    mlflow.MlflowClient(from_process().store_uri).search_experiments()  # the store exists
    port = processes.free_port()
    ui = subprocess.Popen(
        [sys.executable, "-m", "creditops", "ui", "--port", str(port)],
        env={**os.environ, "CREDITOPS_WORKSPACE": str(workspace)},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.3)
        else:
            pytest.fail("the MLflow UI did not answer within 90 s")
        assert httpx.get(f"http://127.0.0.1:{port}/", timeout=5).status_code == 200
        os.killpg(ui.pid, signal.SIGINT)
        output, _ = ui.communicate(timeout=30)
        assert f"MLflow UI for the workspace's store at http://127.0.0.1:{port} (press Ctrl-C" in output
        assert not processes.port_in_use(port)
    finally:
        if ui.poll() is None:
            os.killpg(ui.pid, signal.SIGKILL)
            ui.wait()


def test_ui_without_a_store_says_how_to_make_one(workspace: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ui"]) == 1
    assert "does not exist yet" in capsys.readouterr().err
    assert not (workspace / "mlflow.db").exists()


def test_ui_on_a_busy_port_says_so(workspace: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import socket

    mlflow.MlflowClient(from_process().store_uri).search_experiments()
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        port = held.getsockname()[1]
        assert main(["ui", "--port", str(port)]) == 1
    assert f"port {port} is in use: choose another --port" in capsys.readouterr().err
