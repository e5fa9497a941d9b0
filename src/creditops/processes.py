"""Detached server processes (endpoints, the team store): start with logs, wait until ready, stop for good."""

import contextlib
import os
import signal
import socket
import subprocess  # nosec B404
import sys
import time
from pathlib import Path

import httpx

from creditops.errors import CreditopsError

_children: dict[int, subprocess.Popen[bytes]] = {}
"""Processes started here: asked directly, since a process still inside exec reads as an empty /proc cmdline."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def port_in_use(port: int) -> bool:
    """Whether something listens on 127.0.0.1:`port`."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.settimeout(0.2)
        return probe.connect_ex(("127.0.0.1", port)) == 0 and not connected_to_itself(probe)


def connected_to_itself(sock: socket.socket) -> bool:
    """TCP lets a connection to a free local port pick that same port as its source and succeed."""
    return bool(sock.getsockname() == sock.getpeername())


def start(arguments: list[str], log: Path, env: dict[str, str] | None = None) -> int:
    """Start `python -m creditops …` detached (own session), output appended to `log`; its pid."""
    return start_command([sys.executable, "-m", *arguments], log, env)


def start_command(command: list[str], log: Path, env: dict[str, str] | None = None) -> int:
    """Start `command` detached (own session), output appended to `log`; its pid."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as output:
        process = subprocess.Popen(  # nosec B603
            command,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env={**os.environ, "PYTHONFAULTHANDLER": "1", **(env or {})},
        )
    _children[process.pid] = process
    return process.pid


STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


def run_attached(command: list[str], env: dict[str, str] | None = None) -> str | None:
    """Run `command` in its own process group, its output on this terminal, until it ends or this process is
    asked to stop (SIGINT, SIGTERM, SIGHUP); then the whole group goes (a server and its workers), so
    nothing is left holding its port. The name of the signal that stopped it; None when it ended by itself.

    The handlers only record the signal: the loop below notices it within 0.2 s."""
    received: list[signal.Signals] = []

    def record(signum: int, frame: object) -> None:
        received.append(signal.Signals(signum))

    previous = {number: signal.signal(number, record) for number in STOP_SIGNALS}
    try:
        # a fixed argument list and no shell; a session of its own, so a stop reaches every process it starts
        process = subprocess.Popen(command, stdin=subprocess.DEVNULL, start_new_session=True, env=env)  # nosec B603
        _children[process.pid] = process
        try:
            while not received and process.poll() is None:
                with contextlib.suppress(subprocess.TimeoutExpired):
                    process.wait(timeout=0.2)
        finally:
            stop(process.pid, timeout=5.0)
            _children.pop(process.pid, None)
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
    return received[0].name if received else None


def alive(pid: int, marker: bytes = b"creditops") -> bool:
    """Whether `pid` is a running process with `marker` in its command line (not a zombie, not a reused pid)."""
    if pid in _children:
        return _children[pid].poll() is None
    if pid <= 0:
        return False
    try:
        with open(f"/proc/{pid}/stat", encoding="utf-8") as stat:
            if stat.read().rsplit(")", 1)[-1].split()[0] == "Z":
                return False
        with open(f"/proc/{pid}/cmdline", "rb") as cmdline:
            return marker in cmdline.read()
    except OSError:
        return False


def stop(pid: int, timeout: float = 10.0, marker: bytes = b"creditops") -> None:
    """Stop the process group of `pid`: SIGTERM, then SIGKILL after `timeout` seconds."""
    if not alive(pid, marker):
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while alive(pid, marker) and time.monotonic() < deadline:
        time.sleep(0.05)
    if alive(pid, marker):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGKILL)
        _wait_for_end(pid)
    _children.pop(pid, None)


def _wait_for_end(pid: int) -> None:
    child = _children.get(pid)
    if child is None:
        time.sleep(0.1)
        return
    with contextlib.suppress(subprocess.TimeoutExpired):
        child.wait(timeout=5)


def _ended(pid: int) -> str:
    """How a process that is no longer alive ended, as far as this process can know."""
    child = _children.get(pid)
    if child is None or child.returncode is None:
        return "exited"
    if child.returncode < 0:
        return f"was killed by {signal.Signals(-child.returncode).name}"
    return f"exited with code {child.returncode}"


def wait_until(url: str, pid: int, log: Path, timeout: float = 90.0, marker: bytes = b"creditops") -> None:
    """Wait until GET `url` answers 200; fail with the end of the log if the process dies or hangs."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not alive(pid, marker):
            raise CreditopsError(f"the server {_ended(pid)} before it was ready: {_last_line(log)}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(url, timeout=1.0).status_code == 200:
                return
        time.sleep(0.1)
    stop(pid, marker=marker)
    raise CreditopsError(f"the server was not ready after {timeout:g} s; see {log}")


def wait_listening(port: int, pid: int, log: Path, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not alive(pid):
            raise CreditopsError(f"the endpoint {_ended(pid)} at start: {_last_line(log)}")
        if port_in_use(port):
            return
        time.sleep(0.05)
    stop(pid)
    raise CreditopsError(f"the endpoint did not listen on port {port} within {timeout:g} s; see {log}")


def _last_line(log: Path) -> str:
    lines = [line for line in log.read_text(encoding="utf-8", errors="replace").splitlines() if line.strip()]
    return lines[-1] if lines else f"no output (see {log})"
