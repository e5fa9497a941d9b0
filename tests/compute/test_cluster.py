"""--cluster ADDRESS|local:N: what it accepts, a local cluster closed at the end, one-line errors naming the
address and how to start a scheduler."""

import contextlib
import os
import signal
import socket
import subprocess  # nosec B404
import sys
import threading
import time
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest

from creditops.compute.cluster import _interrupts_held, connected, local_cluster, requested
from creditops.config.environments import ClusterSpec, parse_cluster
from creditops.errors import CreditopsError
from creditops.processes import free_port

distributed = pytest.importorskip("distributed")


@pytest.mark.parametrize(
    ("spec", "parsed"),
    [
        ("local:2", ClusterSpec(workers=2)),
        ("tcp://10.0.0.5:8786", ClusterSpec(address="tcp://10.0.0.5:8786")),
        ("scheduler.internal:8786", ClusterSpec(address="tcp://scheduler.internal:8786")),
        ("tls://[::1]:8786/", ClusterSpec(address="tls://[::1]:8786")),
    ],
)
def test_addresses_and_local_clusters_are_understood(spec: str, parsed: ClusterSpec) -> None:
    assert parse_cluster(spec) == parsed


@pytest.mark.parametrize(
    "spec", ["local:0", "local:x", "local", "scheduler", "tcp://host", "http://host:80", "h:99999"]
)
def test_anything_else_is_one_line_saying_what_is_accepted(spec: str) -> None:
    with pytest.raises(CreditopsError) as raised:
        requested(spec)
    message = str(raised.value)
    assert "\n" not in message
    assert "local" in message


def test_an_unreachable_scheduler_is_one_line_naming_it_and_how_to_start_one() -> None:
    address = f"tcp://127.0.0.1:{free_port()}"
    started = time.monotonic()
    with pytest.raises(CreditopsError) as raised, connected(parse_cluster(address), timeout=1):
        pass
    message = str(raised.value)
    assert "\n" not in message
    assert address in message
    assert "'dask scheduler'" in message
    assert f"'dask worker {address}'" in message
    assert time.monotonic() - started < 15


def test_a_scheduler_without_workers_is_one_line_naming_the_worker_command() -> None:
    with (
        distributed.LocalCluster(
            n_workers=0, processes=False, protocol="tcp", host="127.0.0.1", dashboard_address=":0"
        ) as empty,
        pytest.raises(CreditopsError) as raised,
        connected(parse_cluster(empty.scheduler_address), workers_timeout=1),
    ):
        pass
    message = str(raised.value)
    assert "\n" not in message
    assert f"has no workers after 1s: start them with 'dask worker {empty.scheduler_address}'" in message


@pytest.mark.e2e
def test_a_local_cluster_has_its_workers_and_is_closed_at_the_end() -> None:
    with connected(ClusterSpec(workers=2)) as client:
        workers = client.scheduler_info()["workers"]
        assert len(workers) == 2
        assert {info["nthreads"] for info in workers.values()} == {1}
        assert all(address.startswith("tcp://127.0.0.1:") for address in workers)
        assert client.submit(sum, [1, 2]).result() == 3
    assert client.status == "closed"
    assert distributed.client._get_global_client() is None


@pytest.mark.parametrize(("spec", "workers"), [("LOCAL:2", 2), ("Local:3", 3), (" local:1 ", 1)])
def test_local_is_understood_in_any_case(spec: str, workers: int) -> None:
    assert parse_cluster(spec) == ClusterSpec(workers=workers)


@pytest.mark.parametrize("spec", ["LOCAL", "Local:", "local:2:3", "LOCAL:x", "local:2/"])
def test_other_spellings_of_local_are_refused_not_taken_for_a_host(spec: str) -> None:
    with pytest.raises(CreditopsError, match=r"is neither a Dask scheduler address .* nor local:N"):
        requested(spec)


def test_a_host_whose_name_starts_with_local_is_a_scheduler() -> None:
    assert parse_cluster("localhost:8786") == ClusterSpec(address="tcp://localhost:8786")


def _blocked(status: str) -> bool:
    """Whether a /proc/PID/status text says SIGINT is blocked."""
    mask = next(line.split()[1] for line in status.splitlines() if line.startswith("SigBlk:"))
    return bool(int(mask, 16) & (1 << (signal.SIGINT - 1)))


@pytest.fixture
def default_sigint() -> Iterator[None]:
    """Ctrl-C handled as a terminal's process handles it, whatever the runner passed down (`trap "" INT`
    around `make test` leaves SIGINT ignored)."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


@pytest.mark.skipif(not Path("/proc/self/status").is_file(), reason="reads /proc")
def test_a_ctrl_c_while_workers_start_is_held_back_and_delivered_after(default_sigint: None) -> None:
    seen: list[bool] = []

    def held_back() -> None:
        with _interrupts_held():
            # the threads and processes started meanwhile (the event loop, the workers) inherit the mask
            status = Path("/proc/thread-self/status")
            thread = threading.Thread(target=lambda: seen.append(_blocked(status.read_text())))
            thread.start()
            thread.join()
            reading = [sys.executable, "-c", "print(open('/proc/self/status').read())"]
            child = subprocess.run(reading, capture_output=True, text=True, check=True)  # nosec B603
            os.kill(os.getpid(), signal.SIGINT)  # the terminal's Ctrl-C: held back, nothing raised here
            time.sleep(0.05)
            seen.append(_blocked(child.stdout))

    with pytest.raises(KeyboardInterrupt):
        held_back()
    assert seen == [True, True]
    assert signal.SIGINT not in signal.pthread_sigmask(signal.SIG_BLOCK, set())
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_without_a_ctrl_c_the_block_ends_as_it_began(default_sigint: None) -> None:
    with _interrupts_held():
        assert signal.SIGINT in signal.pthread_sigmask(signal.SIG_BLOCK, set())
    assert signal.SIGINT not in signal.pthread_sigmask(signal.SIG_BLOCK, set())
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_two_local_clusters_at_once_neither_warn_nor_listen_on_8787() -> None:
    psutil = pytest.importorskip("psutil")
    me = psutil.Process()
    before = {c.laddr for c in me.net_connections(kind="tcp") if c.status == psutil.CONN_LISTEN}
    with contextlib.ExitStack() as stack:
        taken = stack.enter_context(socket.socket())
        with contextlib.suppress(OSError):  # 8787 taken, by this test or another program: what a 2nd cluster meets
            taken.bind(("127.0.0.1", 8787))
            taken.listen()
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            first = stack.enter_context(local_cluster(0))  # no workers: only the schedulers, in this process
            second = stack.enter_context(local_cluster(0))
        assert first.scheduler_address != second.scheduler_address
        opened = {c.laddr for c in me.net_connections(kind="tcp") if c.status == psutil.CONN_LISTEN} - before
        opened.discard(taken.getsockname() if taken.getsockname()[1] else None)
        assert len(opened) >= 4  # each scheduler's comm and HTTP server
        assert {address.ip for address in opened} == {"127.0.0.1"}
        assert 8787 not in {address.port for address in opened}
