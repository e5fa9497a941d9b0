"""A Dask cluster to compute on: a running scheduler's address, or `local:N` worker processes started here.

Dask is imported only when a command is given a cluster: every other command answers without its import
time.
"""

import logging
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Final

from creditops.config.environments import ClusterSpec, parse_cluster
from creditops.errors import CreditopsError

if TYPE_CHECKING:
    from distributed import Client

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
    the block runs (lightgbm.dask looks for it there). A local cluster (one thread per worker process, on
    127.0.0.1, no dashboard) is closed when the block ends, a remote one is left running. An unreachable
    scheduler or one without workers is a one-line CreditopsError naming the address and how to start one."""
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise CreditopsError(f"a cluster needs Dask: {INSTALL}") from None
    if spec.address is None:
        with _interrupts_left_to_this_process():
            cluster = LocalCluster(  # type: ignore[no-untyped-call]
                n_workers=spec.workers,
                threads_per_worker=1,
                processes=True,
                host="127.0.0.1",
                dashboard_address=None,
                worker_dashboard_address=None,
                silence_logs=logging.ERROR,
            )
        with cluster, Client(cluster) as client:  # type: ignore[no-untyped-call]
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


@contextmanager
def _interrupts_left_to_this_process() -> Iterator[None]:
    """Start local workers ignoring SIGINT, which they inherit: Ctrl-C reaches every process of the terminal's
    process group, and workers that got it would each print a traceback while this process, which got it too,
    stops them in order. Ignored here only until the workers exist (a Ctrl-C in those seconds is lost)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def first_line(error: BaseException) -> str:
    """An error's message in one line, for a one-line refusal."""
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__
