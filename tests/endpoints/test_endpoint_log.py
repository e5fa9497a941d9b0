"""The local endpoint's log: what rollouts write to it, and following it as it grows."""

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from creditops.context import Context
from creditops.endpoints import state
from creditops.endpoints.state import Deployment, Endpoint
from creditops.endpoints.targets.local import LocalTarget
from creditops.errors import CreditopsError


def _target(tmp_path: Path) -> LocalTarget:
    """An endpoint's state with a blue deployment, and no process: only its log is read and written."""
    context = Context.local(tmp_path / "workspace")
    blue = Deployment("blue", "models:/m/1", "1", "m", 0.5, str(tmp_path / "model"))
    state.save(
        context.endpoints_dir, Endpoint("log-ep", 8123, "key", deployments={"blue": blue}, traffic={"blue": 100})
    )
    return LocalTarget(context, "log-ep")


def _until(seconds: float):
    deadline = time.monotonic() + seconds
    return lambda: time.monotonic() > deadline


def test_notes_are_stamped_lines_of_the_log_that_logs_reads(tmp_path: Path) -> None:
    target = _target(tmp_path)
    target.note("smoke test of blue passed (1.0 ms)")
    target.note("rollout of models:/m/2 failed: smoke test of green failed")
    lines = target.logs(10).lines
    assert [line.split(" ", 1)[1] for line in lines] == [
        "smoke test of blue passed (1.0 ms)",
        "rollout of models:/m/2 failed: smoke test of green failed",
    ]
    assert lines[0][:4].isdigit()  # an ISO time first
    assert target.logs(10, "blue").lines == lines[:1]


def test_follow_gives_the_lines_written_after_it_starts_until_told_to_stop(tmp_path: Path) -> None:
    target = _target(tmp_path)
    target.note("before")
    followed = target.follow(None, _until(0.6), poll=0.05)
    target.note("first after")
    path = state.logs(target.context.endpoints_dir, "log-ep") / state.LOG_FILE
    with path.open("a", encoding="utf-8") as log:  # a worker's line, written in two pieces
        log.write("worker 7: half a ")
        log.flush()
        log.write("line\n")
    lines = list(followed)
    assert len(lines) == 2
    assert lines[0].endswith(" first after")
    assert lines[1] == "worker 7: half a line"


def test_follow_keeps_to_one_deployment_and_refuses_an_unknown_one(tmp_path: Path) -> None:
    target = _target(tmp_path)
    followed = target.follow("blue", _until(0.4), poll=0.05)
    target.note("green at 50%: checks passed")
    target.note("blue retired")
    assert [line.split(" ", 1)[1] for line in followed] == ["blue retired"]
    with pytest.raises(CreditopsError, match="no deployment named green on endpoint log-ep"):
        target.follow("green", _until(0))


@pytest.mark.e2e
def test_logs_follow_prints_new_lines_until_ctrl_c(tmp_path: Path) -> None:
    # Given an endpoint whose log has a line, followed by `creditops endpoint logs --follow`
    target = _target(tmp_path)
    target.note("deployed blue")
    environ = {**os.environ, "CREDITOPS_WORKSPACE": str(tmp_path / "workspace"), "PYTHONUNBUFFERED": "1"}
    environ.pop("MLFLOW_TRACKING_URI", None)
    command = [sys.executable, "-m", "creditops", "endpoint", "logs", "log-ep", "--follow"]
    # as from a terminal: Ctrl-C not ignored (a test runner, or `trap "" INT` around it, may pass SIGINT ignored,
    # and Python then never raises KeyboardInterrupt)
    process = subprocess.Popen(
        command,
        env=environ,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    hung = threading.Timer(60, process.kill)  # a follow that never prints fails the test, not the suite
    hung.start()
    try:
        assert process.stdout is not None
        assert process.stdout.readline().endswith(" deployed blue\n")  # the tail first
        # When a rollout writes to the log, then the line is printed as it comes
        target.note("smoke test of green passed (1.0 ms)")
        assert process.stdout.readline().endswith(" smoke test of green passed (1.0 ms)\n")
    finally:
        process.send_signal(signal.SIGINT)  # Ctrl-C ends it, quietly
        _out, err = process.communicate(timeout=20)
        hung.cancel()
    assert process.returncode == 0, err
    assert "Traceback" not in err
