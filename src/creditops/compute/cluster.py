"""A Dask cluster to compute on: a running scheduler's address, or `local:N` worker processes started here.

Dask is imported only when a command is given a cluster: every other command answers without its import
time.
"""

import logging
import os
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from multiprocessing import resource_tracker
from typing import TYPE_CHECKING, Final

from creditops.config.environments import ClusterSpec, parse_cluster
from creditops.errors import CreditopsError, first_line

if TYPE_CHECKING:
    from distributed import Client, LocalCluster

CONNECT_SECONDS: Final = 10.0
"""How long to wait for a scheduler to answer."""
WORKERS_SECONDS: Final = 30.0
"""How long a scheduler may take to have a worker before the command is refused."""
INSTALL: Final = "pip install 'creditops[dask]' (Dask's distributed scheduler)"


def requested(option: str) -> ClusterSpec:
    """The cluster `--cluster` names, or one line saying what it accepts."""
    try:
        return parse_cluster(option)
    except ValueError as error:
        raise CreditopsError(f"--cluster {error}") from None


@contextmanager
def connected(
    spec: ClusterSpec, *, timeout: float = CONNECT_SECONDS, workers_timeout: float = WORKERS_SECONDS
) -> Iterator["Client"]:
    """A Dask client of the cluster `spec` names, with at least one worker, set as the default client while
    the block runs (lightgbm.dask looks for it there). A local cluster (`local_cluster`) is closed when the
    block ends, a remote one is left running. An unreachable scheduler or one without workers is a one-line
    CreditopsError naming the address and how to start one."""
    try:
        from distributed import Client
    except ImportError:
        raise CreditopsError(f"a cluster needs Dask: {INSTALL}") from None
    if spec.address is None:
        with ExitStack() as stack:
            with _interrupts_held():  # a Ctrl-C while the workers start arrives when this block ends
                cluster = stack.enter_context(local_cluster(spec.workers))
            client = stack.enter_context(Client(cluster))  # type: ignore[no-untyped-call]
            client.run(_print_nowhere)
            yield client
        return
    address = spec.address
    try:
        client = Client(address, timeout=timeout)  # type: ignore[no-untyped-call]
    except (OSError, TimeoutError, ValueError) as error:
        raise CreditopsError(
            f"no Dask scheduler answers at {address} within {timeout:g}s ({first_line(error)}): start one with"
            f" 'dask scheduler' and its workers with 'dask worker {address}', or use --cluster local:2"
        ) from None
    with client:
        try:
            client.wait_for_workers(1, timeout=workers_timeout)
        except (OSError, TimeoutError):
            raise CreditopsError(
                f"the Dask scheduler at {address} has no workers after {workers_timeout:g}s: start them with"
                f" 'dask worker {address}'"
            ) from None
        yield client


def local_cluster(workers: int) -> "LocalCluster":
    """`workers` worker processes of one thread each on 127.0.0.1, and their scheduler in this process. The
    scheduler's HTTP server (no dashboard: `dashboard=False`) listens on a free port of 127.0.0.1, not on
    8787: two commands at once neither share a port nor warn that it is taken."""
    from distributed import LocalCluster

    return LocalCluster(  # type: ignore[no-untyped-call]
        n_workers=workers,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=None,
        worker_dashboard_address=None,
        scheduler_kwargs={"dashboard": False, "dashboard_address": "127.0.0.1:0"},
        silence_logs=logging.ERROR,
    )


@contextmanager
def _interrupts_held() -> Iterator[None]:
    """Hold SIGINT back while local workers start, and deliver it when the block ends.

    Ctrl-C reaches every process of the terminal's process group: workers that got it would each print a
    traceback while this process, which got it too, stops them in order. SIGINT is blocked in this thread
    while the block runs; the threads it starts, the Dask event loop's among them, and the worker processes
    they start inherit the mask (across fork and exec), so workers never see the terminal's Ctrl-C. A Ctrl-C
    meanwhile stays pending and is delivered here when the block ends (a KeyboardInterrupt, after the
    cluster is entered, so the caller closes it); one that another thread of this process took is recorded
    and raised then too. Only the main thread handles signals: elsewhere the block runs as it is."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    # multiprocessing starts its resource tracker, once, with SIGINT blocked and then *unblocked* in the
    # thread that starts the first process: started here, before, it leaves the Dask event loop's mask alone
    resource_tracker.ensure_running()
    interrupted: list[int] = []
    previous = signal.signal(signal.SIGINT, lambda number, frame: interrupted.append(number))
    mask = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, signal.default_int_handler if previous is None else previous)
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)  # a pending Ctrl-C is delivered here
        if interrupted:
            signal.raise_signal(signal.SIGINT)


def _print_nowhere() -> None:
    """On a local worker: its standard output to /dev/null. Its results come back through Dask and its logs
    and errors go to stderr; what it prints is chatter on the command's terminal (LightGBM's network setup,
    "Trying to bind port", "Listening...", is printed by its native library before it reads the training's
    `verbosity`, and from a thread of its own)."""
    if sys.stdout is not None:
        sys.stdout.flush()
    nowhere = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(nowhere, 1)
    finally:
        os.close(nowhere)
