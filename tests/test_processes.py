"""Detached processes: alive from the first instant, stopped for good, and an early death explained."""

import os
import signal
import socket
from pathlib import Path

import pytest

from creditops import processes
from creditops.errors import CreditopsError

IDLE_SERVER = ["http.server", "--bind", "127.0.0.1", "0"]


def test_a_process_is_alive_the_moment_it_starts_and_gone_once_stopped(tmp_path: Path) -> None:
    # /proc/PID/cmdline reads empty for a moment while a new process is still inside exec
    for _ in range(25):
        pid = processes.start(IDLE_SERVER, tmp_path / "server.log")
        assert processes.alive(pid)
        processes.stop(pid)
        assert not processes.alive(pid)


def test_a_server_that_fails_at_start_is_reported_with_its_exit_code_and_last_line(tmp_path: Path) -> None:
    log = tmp_path / "server.log"
    pid = processes.start(["creditops.no_such_module"], log)
    with pytest.raises(CreditopsError, match=r"exited with code 1 before it was ready: .*No module named"):
        processes.wait_until(f"http://127.0.0.1:{processes.free_port()}/ready", pid, log)


def test_a_server_killed_at_start_is_reported_with_the_signal(tmp_path: Path) -> None:
    log = tmp_path / "server.log"
    pid = processes.start(IDLE_SERVER, log)
    os.killpg(pid, signal.SIGKILL)
    with pytest.raises(CreditopsError, match=r"was killed by SIGKILL before it was ready: no output"):
        processes.wait_until(f"http://127.0.0.1:{processes.free_port()}/ready", pid, log)


def test_a_connection_to_itself_is_not_a_listener() -> None:
    port = processes.free_port()
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", port))
        sock.connect(("127.0.0.1", port))  # a TCP simultaneous open with itself
        assert processes.connected_to_itself(sock)
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", port))
        listener.listen()
        assert processes.port_in_use(port)
