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


def _start_ui(workspace: Path, port: int) -> "subprocess.Popen[str]":
    """`creditops ui` on `port`, answering; in a session of its own, as a terminal starts a command."""
    mlflow.MlflowClient(from_process().store_uri).search_experiments()  # the store exists
    ui = subprocess.Popen(
        [sys.executable, "-m", "creditops", "ui", "--port", str(port)],
        env={**os.environ, "CREDITOPS_WORKSPACE": str(workspace)},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code == 200:
                return ui
        except httpx.HTTPError:
            time.sleep(0.3)
    _kill(ui)
    pytest.fail("the MLflow UI did not answer within 90 s")


def _kill(ui: "subprocess.Popen[str]") -> None:
    if ui.poll() is None:
        os.killpg(ui.pid, signal.SIGKILL)
        ui.wait()


def _port_freed(port: int, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while processes.port_in_use(port):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def test_ui_serves_the_store_and_stops_on_ctrl_c(workspace: Path) -> None:
    port = processes.free_port()
    ui = _start_ui(workspace, port)
    try:
        assert httpx.get(f"http://127.0.0.1:{port}/", timeout=5).status_code == 200
        os.killpg(ui.pid, signal.SIGINT)  # Ctrl-C: the terminal signals the foreground process group
        output, _ = ui.communicate(timeout=30)
        assert f"MLflow UI for the workspace's store at http://127.0.0.1:{port} (press Ctrl-C" in output
        assert "StarletteDeprecationWarning" not in output  # MLflow's import of starlette.middleware.wsgi
        assert not processes.port_in_use(port)
    finally:
        _kill(ui)


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_to_the_ui_process_alone_stops_mlflow_too(workspace: Path, stop: signal.Signals) -> None:
    # Given `creditops ui` serving on a port
    port = processes.free_port()
    ui = _start_ui(workspace, port)
    try:
        # When its pid alone is signalled (`kill PID`, a supervisor stopping it), not its process group
        os.kill(ui.pid, stop)
        ui.communicate(timeout=30)
        # Then MLflow's server went with it: the port is free within a few seconds
        assert _port_freed(port, seconds=5), f"MLflow still listens on {port} after creditops ui got {stop.name}"
    finally:
        _kill(ui)


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
