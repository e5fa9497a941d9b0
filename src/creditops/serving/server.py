"""Run the scoring app under uvicorn, in one process or in N forked workers sharing one socket.

uvicorn's own `--workers N` leaves TCP_NODELAY unset on its sockets (uvicorn issue #3149), so every
small response waits ~40 ms for a delayed ACK. Here the parent binds one TCP socket (proto
IPPROTO_TCP, so the event loop sets TCP_NODELAY on each connection), loads the model once, and forks
single-process uvicorn servers that accept from that socket; a worker that dies is replaced.
"""

import contextlib
import os
import signal
import socket
import sys
import time
from collections.abc import Callable
from typing import Any

import uvicorn

from creditops.errors import CreditopsError
from creditops.files import scratch_dir

AppFactory = Callable[[], object]
"""Builds the ASGI app; called in each worker so each has its own metrics writer."""


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


def serve(factory: AppFactory, sock: socket.socket, workers: int) -> None:
    """Serve until SIGINT/SIGTERM with `workers` processes (1: this process)."""
    if workers <= 1:
        _run_uvicorn(factory(), sock)
        return
    with scratch_dir("creditops-metrics-") as metrics_dir:
        # prometheus_client's multiprocess mode reads this variable in each worker: it is its contract
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(metrics_dir)
        _supervise(factory, sock, workers)


def _supervise(factory: AppFactory, sock: socket.socket, workers: int) -> None:
    """Fork the workers, restart any that dies, and stop them all on SIGINT/SIGTERM."""
    children: set[int] = set()
    stopping = False

    def stop(signum: int, frame: object) -> None:
        nonlocal stopping
        stopping = True
        for pid in children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    for _ in range(workers):
        children.add(_fork_worker(factory, sock))
    while children:
        try:
            pid, _status = os.wait()
        except ChildProcessError:
            break
        except InterruptedError:
            continue
        children.discard(pid)
        if not stopping:
            time.sleep(0.2)
            children.add(_fork_worker(factory, sock))


def _fork_worker(factory: AppFactory, sock: socket.socket) -> int:
    pid = os.fork()
    if pid == 0:  # the worker
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        code = 0
        try:
            _run_uvicorn(factory(), sock)
        except BaseException:  # a worker reports and exits; the parent replaces it
            code = 1
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)
    return pid


def _run_uvicorn(app: Any, sock: socket.socket) -> None:
    config = uvicorn.Config(
        app,
        log_level="warning",
        access_log=False,
        lifespan="off",
        server_header=False,
        timeout_graceful_shutdown=5,
    )
    uvicorn.Server(config).run(sockets=[sock])
