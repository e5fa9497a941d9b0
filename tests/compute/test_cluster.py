"""--cluster ADDRESS|local:N: what it accepts, a local cluster closed at the end, one-line errors naming the
address and how to start a scheduler."""

import time

import pytest

from creditops.compute.cluster import connected, requested
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
