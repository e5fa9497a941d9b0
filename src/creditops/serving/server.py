"""Run the scoring app under uvicorn: forked workers sharing one socket, each connection bounded.

uvicorn's own `--workers N` leaves TCP_NODELAY unset on its sockets (uvicorn issue #3149), so every
small response waits ~40 ms for a delayed ACK. Here the parent binds one TCP socket (proto
IPPROTO_TCP, so the event loop sets TCP_NODELAY on each connection), loads the model once, and forks
single-process uvicorn servers that accept from that socket. The parent keeps the socket, so while a
worker that died is replaced, new connections wait in the backlog instead of being refused.
"""

import contextlib
import ctypes
import ctypes.util
import os
import resource
import signal
import socket
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import uvicorn

from creditops.errors import CreditopsError
from creditops.files import scratch_dir
from creditops.serving.bounded import ConnectionLimits, bounded_protocol

AppFactory = Callable[[], object]
"""Builds the ASGI app; called in each worker so each has its own metrics writer."""
PR_SET_PDEATHSIG = 1
QUICK_DEATH_SECONDS = 10.0
MAX_BACKOFF_SECONDS = 5.0


@dataclass
class Supervision:
    """What the supervisor knows of its workers: shown by `creditops endpoint show`."""

    pid: int
    workers: list[int] = field(default_factory=list)
    restarts: int = 0
    last_exit: str | None = None
    backoff_seconds: float = 0.0


def bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket on host:port; a clear error when the port is taken."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as error:
        sock.close()
        raise CreditopsError(f"cannot listen on {host}:{port}: {error.strerror}; choose another --port") from error
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def serve(
    factory: AppFactory,
    sock: socket.socket,
    workers: int,
    *,
    limits: ConnectionLimits | None = None,
    supervise: bool = False,
    desired: Callable[[], int] | None = None,
    report: Callable[[Supervision], None] | None = None,
) -> None:
    """Serve until SIGINT/SIGTERM. One worker without `supervise` runs in this process; otherwise
    forked workers, restarted with back-off when they die, `desired()` of them when given."""
    limits = limits or ConnectionLimits()
    if workers <= 1 and not supervise:
        _run_uvicorn(factory(), sock, limits)
        return
    with scratch_dir("creditops-metrics-") as metrics_dir:
        # prometheus_client's multiprocess mode reads this variable in each worker: it is its contract
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(metrics_dir)
        _supervise(factory, sock, desired or (lambda: workers), limits, report or (lambda status: None))


def _supervise(
    factory: AppFactory,
    sock: socket.socket,
    desired: Callable[[], int],
    limits: ConnectionLimits,
    report: Callable[[Supervision], None],
) -> None:
    """Keep `desired()` workers alive, restarting the dead with back-off; stop them all on SIGINT/SIGTERM."""
    started: dict[int, float] = {}
    status = Supervision(os.getpid())
    stopping = False
    next_fork = 0.0

    def stop(signum: int, frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    while not stopping:
        changed = False
        for pid, how in _reaped():
            lived = time.monotonic() - started.pop(pid, time.monotonic())
            status.restarts += 1
            status.last_exit = f"worker {pid} {how} after {lived:.1f} s"
            quick = lived < QUICK_DEATH_SECONDS
            status.backoff_seconds = min(MAX_BACKOFF_SECONDS, max(0.1, status.backoff_seconds * 2)) if quick else 0.0
            next_fork = time.monotonic() + status.backoff_seconds
            print(f"{status.last_exit}; starting another in {status.backoff_seconds:g} s", flush=True)
            changed = True
        wanted = max(1, desired())
        while len(started) < wanted and time.monotonic() >= next_fork:
            started[_fork_worker(factory, sock, limits)] = time.monotonic()
            changed = True
        for pid in list(started)[wanted:]:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
        if changed:
            status.workers = sorted(started)
            report(status)
        time.sleep(0.05)
    for pid in started:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 10
    while started and time.monotonic() < deadline:
        for pid, _how in _reaped():
            started.pop(pid, None)
        time.sleep(0.05)
    for pid in started:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def _reaped() -> list[tuple[int, str]]:
    """The workers that ended since the last call, and how."""
    ended: list[tuple[int, str]] = []
    while True:
        try:
            pid, code = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return ended
        if pid == 0:
            return ended
        if os.WIFSIGNALED(code):
            ended.append((pid, f"was killed by {signal.Signals(os.WTERMSIG(code)).name}"))
        else:
            ended.append((pid, f"exited with code {os.waitstatus_to_exitcode(code)}"))


def _fork_worker(factory: AppFactory, sock: socket.socket, limits: ConnectionLimits) -> int:
    parent = os.getpid()
    pid = os.fork()
    if pid == 0:  # the worker
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        _die_with(parent)
        code = 0
        try:
            _run_uvicorn(factory(), sock, limits)
        except BaseException:  # a worker reports and exits; the parent replaces it
            code = 1
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)
    return pid


def _die_with(parent: int) -> None:
    """Ask the kernel for SIGTERM when the supervisor dies, even by SIGKILL: no worker outlives it."""
    libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() != parent:  # the parent died before the request took effect
        os._exit(0)


def _run_uvicorn(app: Any, sock: socket.socket, limits: ConnectionLimits) -> None:
    config = uvicorn.Config(
        app,
        http=bounded_protocol(limits),
        ws="none",
        log_level="warning",
        access_log=False,
        lifespan="off",
        server_header=False,
        timeout_graceful_shutdown=5,
        timeout_keep_alive=limits.idle_seconds,
        limit_concurrency=_connection_cap(limits.max_connections),
    )
    uvicorn.Server(config).run(sockets=[sock])


def _connection_cap(wanted: int) -> int:
    """At most `wanted` connections, and fewer than this process may open descriptors: past the cap a
    client gets a 503 at once, not a refused accept that leaves every client waiting."""
    soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    return max(16, min(wanted, soft - 64)) if soft != resource.RLIM_INFINITY else wanted
