"""The endpoint's front door attacked and interrupted: closed, bounded, self-healing, safe to stop."""

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from creditops import processes
from creditops.cli import main
from creditops.context import from_process
from creditops.data.schema import FEATURES
from creditops.endpoints import blue_green, state
from creditops.endpoints.decisions import MirrorLimits
from creditops.endpoints.state import Endpoint
from creditops.endpoints.targets import local_process
from creditops.endpoints.targets.local import LocalTarget
from creditops.errors import CreditopsError

from ..sample_requests import SAMPLE

pytestmark = pytest.mark.e2e
V1, V2 = "models:/credit_default_model/1", "models:/credit_default_model/2"


def _live(endpoint: str, workers: int = 1) -> tuple[Endpoint, str]:
    context = from_process()
    if workers != 1:
        LocalTarget(context, endpoint, workers).deploy_by_hand("blue", V1)
    else:
        LocalTarget(context, endpoint).deploy_by_hand("blue", V1)
    LocalTarget(context, endpoint).set_traffic_by_hand({"blue": 100})
    return state.load(context.endpoints_dir, endpoint), state.read_key(context.endpoints_dir, endpoint) or ""


def _workers(endpoint: str) -> list[int]:
    return list(local_process.supervision(from_process(), endpoint).get("workers", []))


def _raw(port: int, request: bytes, timeout: float = 10.0) -> bytes:
    """Send raw bytes; everything the server answers until it closes or `timeout` passes."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(request)
        received = b""
        try:
            while chunk := sock.recv(65536):
                received += chunk
                if b"\r\n\r\n" in received and b"connection: close" not in received.lower():
                    break
        except (TimeoutError, ConnectionResetError):
            pass
        return received


def _status(answer: bytes) -> int:
    return int(answer.split(b" ", 2)[1]) if answer.startswith(b"HTTP/1.1 ") else 0


def _rss_kb(pids: list[int]) -> int:
    total = 0
    for pid in pids:
        with open(f"/proc/{pid}/status", encoding="utf-8") as status:
            total += next(int(line.split()[1]) for line in status if line.startswith("VmRSS:"))
    return total


def _listening_ports(pids: list[int]) -> set[int]:
    """The TCP ports these processes listen on (their socket inodes matched against /proc/net/tcp*)."""
    inodes = set()
    for pid in pids:
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            target = os.readlink(fd) if fd.is_symlink() else ""
            if target.startswith("socket:["):
                inodes.add(target[8:-1])
    ports = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] == "0A" and fields[9] in inodes:
                ports.add(int(fields[1].rsplit(":", 1)[1], 16))
    return ports


def test_nothing_is_reachable_without_the_key_and_only_the_endpoint_port_listens(endpoint: str) -> None:
    live, _key = _live(endpoint, workers=2)
    for path in ("/score", "/invocations", "/metrics", "/version", "/docs", "/openapi.json"):
        answer = httpx.post(f"{live.url}{path}", content=SAMPLE, headers={"content-type": "application/json"})
        assert answer.status_code == 401, path
    for path in ("/score", "/invocations", "/metrics", "/version"):
        routed = httpx.get(f"{live.url}{path}", headers={"azureml-model-deployment": "blue"})
        assert routed.status_code == 401, path
    for path in ("/docs", "/openapi.json"):  # the API's documentation opens in a browser, with no key
        assert httpx.get(f"{live.url}{path}").status_code == 200, path
    assert httpx.get(f"{live.url}/health").status_code == 200  # probes carry no credentials
    assert _listening_ports([live.pid, *_workers(endpoint)]) == {live.port}
    key_file = state.folder(from_process().endpoints_dir, endpoint) / state.KEY_FILE
    assert key_file.stat().st_mode & 0o777 == 0o600


def test_huge_bodies_and_headers_are_refused_with_flat_memory(endpoint: str) -> None:
    live, key = _live(endpoint)
    pids = [live.pid, *_workers(endpoint)]
    before = _rss_kb(pids)
    head = f"POST /score HTTP/1.1\r\nhost: x\r\nauthorization: Bearer {key}\r\ncontent-type: application/json\r\n"
    declared = _raw(live.port, (head + "content-length: 100000000\r\n\r\n").encode() + b"[" * 65536)
    assert _status(declared) == 413
    with socket.create_connection(("127.0.0.1", live.port), timeout=10) as sock:
        sent = 0
        sock.sendall(b"POST /score HTTP/1.1\r\nhost: x\r\nauthorization: Bearer wrong\r\nx-big: ")
        try:
            while sent < 100_000_000:
                sock.sendall(b"a" * 1_048_576)
                sent += 1_048_576
        except (BrokenPipeError, ConnectionResetError):
            pass
        assert sent < 10_000_000  # refused within the first megabytes, not after reading 100 MB
    assert _status(_raw(live.port, head.encode() + b"x-big: " + b"a" * 40_000 + b"\r\n\r\n")) == 431
    assert _rss_kb(pids) - before < 30_000
    chunked = head + "transfer-encoding: chunked\r\n\r\n" + f"{2_000_000:x}\r\n" + "a" * 2_000_000 + "\r\n0\r\n\r\n"
    assert _status(_raw(live.port, chunked.encode())) == 413


MALFORMED = (
    b"POST /score%00 HTTP/1.1\r\n",
    b"POST /sc%0D%0Aore HTTP/1.1\r\n",
    b"OPTIONS * HTTP/1.1\r\n",
    b"GET /%ff%fe HTTP/1.1\r\n",
    b"POST /score HTTP/1.1\r\ncontent-type: \xff\xfe\r\n",
    b"POST /score HTTP/1.1\r\nazureml-model-deployment: \xff\xfe\r\n",
    b"POST /score HTTP/1.1\r\nazureml-model-deployment: " + b"b" * 5000 + b"\r\n",
    b"BREW /score HTTP/1.1\r\n",
    b"POST /score HTTP/9.9\r\n",
)


def test_malformed_requests_are_4xx_and_no_5xx_is_counted(endpoint: str) -> None:
    live, key = _live(endpoint)
    for request_line in MALFORMED:
        request = request_line + f"host: x\r\nauthorization: Bearer {key}\r\ncontent-length: 2\r\n\r\n{{}}".encode()
        status = _status(_raw(live.port, request))
        assert 400 <= status < 500, request_line
    metrics = httpx.get(f"{live.url}/metrics", headers={"authorization": f"Bearer {key}"}).text
    assert 'status="500"' not in metrics


def test_a_slow_client_is_cut_off_and_good_clients_still_answered(model_workspace: Path, tmp_path: Path) -> None:
    port = processes.free_port()
    state.save(tmp_path, Endpoint(name="slow-ep", port=port, auth="none"))
    log = tmp_path / "front-door.log"
    arguments = ["creditops.endpoints.front_door", "--state", str(tmp_path / "slow-ep" / state.STATE_FILE)]
    pid = processes.start([*arguments, "--port", str(port), "--head-seconds", "1"], log)
    try:
        processes.wait_until(f"http://127.0.0.1:{port}/health", pid, log)
        slow = [socket.create_connection(("127.0.0.1", port)) for _ in range(50)]
        for sock in slow:
            sock.sendall(b"GET /health HTTP/1.1\r\nHo")
        assert httpx.get(f"http://127.0.0.1:{port}/health").status_code == 200
        started = time.monotonic()
        slow[0].settimeout(5)
        answer = slow[0].recv(4096)
        assert _status(answer) == 408
        assert time.monotonic() - started < 3
        silent = socket.create_connection(("127.0.0.1", port), timeout=5)
        assert silent.recv(4096).startswith(b"HTTP/1.1 408")  # a connection that sends nothing is closed too
        for sock in [*slow, silent]:
            sock.close()
    finally:
        processes.stop(pid)


def _load(url: str, key: str, seconds: float, connections: int) -> tuple[int, int]:
    """Requests answered and failed by `connections` keep-alive clients over `seconds`."""
    counts = {"ok": 0, "failed": 0}
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def client() -> None:
        headers = {"content-type": "application/json", "authorization": f"Bearer {key}"}
        with httpx.Client(headers=headers, timeout=10) as session:
            while time.monotonic() < deadline:
                try:
                    ok = session.post(f"{url}/score", content=SAMPLE).status_code == 200
                except httpx.HTTPError:
                    ok = False
                with lock:
                    counts["ok" if ok else "failed"] += 1

    threads = [threading.Thread(target=client) for _ in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return counts["ok"], counts["failed"]


def test_a_killed_worker_is_replaced_and_costs_only_the_requests_in_flight(endpoint: str) -> None:
    live, key = _live(endpoint, workers=2)
    victim = _workers(endpoint)[0]
    result: list[tuple[int, int]] = []
    loader = threading.Thread(target=lambda: result.append(_load(live.url, key, 4.0, 4)))
    loader.start()
    time.sleep(1.5)
    os.kill(victim, signal.SIGKILL)
    loader.join()
    ok, failed = result[0]
    assert ok > 100
    assert failed <= 4  # at most the one request in flight on each connection
    deadline = time.monotonic() + 10
    while (len(_workers(endpoint)) < 2 or victim in _workers(endpoint)) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert victim not in _workers(endpoint)
    assert len(_workers(endpoint)) == 2
    _endpoint, report = LocalTarget(from_process(), endpoint).health()
    assert "1 restart(s)" in report[0].detail
    assert f"worker {victim} was killed by SIGKILL" in report[0].detail
    lines = LocalTarget(from_process(), endpoint).logs(20).lines  # `creditops endpoint logs`
    assert any(f"worker {victim} was killed by SIGKILL" in line for line in lines)
    own = LocalTarget(from_process(), endpoint).logs(20, deployment="blue").lines
    assert all("blue" in line for line in own)
    with pytest.raises(CreditopsError, match=r"no deployment named green on endpoint .* deployments: blue"):
        LocalTarget(from_process(), endpoint).logs(20, deployment="green")
    assert _load(live.url, key, 1.0, 2)[1] == 0


def test_a_truncated_state_file_is_refused_while_every_worker_serves_and_delete_still_works(
    model_workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    name = "ep-truncated-state"
    LocalTarget(from_process(), name).create(auth="key", workers=2)
    live, key = _live(name)
    path = state.folder(from_process().endpoints_dir, name) / state.STATE_FILE
    # The supervisor follows the file every 50 ms, as the workers do: a file broken within that moment of the
    # last good write would leave it (and the workers it forks) a generation behind. Let it read the last one.
    time.sleep(0.5)
    path.write_bytes(path.read_bytes()[:40])  # a hand edit gone wrong, or a full disk
    time.sleep(0.5)
    assert processes.alive(live.pid)
    victim = _workers(name)[0]
    os.kill(victim, signal.SIGKILL)  # the worker started in its place must serve the last good state too
    deadline = time.monotonic() + 10
    while (len(_workers(name)) < 2 or victim in _workers(name)) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert victim not in _workers(name)
    headers = {"content-type": "application/json", "authorization": f"Bearer {key}"}
    with httpx.Client(headers=headers) as client:
        answers = [client.post(f"{live.url}/score", content=SAMPLE) for _ in range(40)]
    log = (state.logs(from_process().endpoints_dir, name) / "front-door.log").read_text()
    refused = [answer.text for answer in answers if answer.status_code != 200][:2]
    assert {(answer.status_code, answer.json().get("model_version")) for answer in answers} == {(200, "1")}, (
        refused,
        log[-3000:],
    )
    assert "refused the endpoint state, still serving generation" in log
    assert "Traceback" not in log

    capsys.readouterr()
    assert main(["endpoint", "show", name]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "is not valid endpoint state" in err
    assert f"run 'creditops endpoint delete {name}' and create it again" in err
    assert main(["endpoint", "delete", name]) == 0
    assert not processes.alive(live.pid)
    assert not processes.port_in_use(live.port)
    assert not path.parent.exists()


def test_workers_die_with_a_killed_front_door_and_start_brings_it_back(endpoint: str) -> None:
    live, _key = _live(endpoint, workers=2)
    workers = _workers(endpoint)
    os.kill(live.pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while any(processes.alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(processes.alive(pid) for pid in workers)
    LocalTarget(from_process(), endpoint).start()
    assert LocalTarget(from_process(), endpoint).invoke(SAMPLE).status_code == 200


def _rollout_process(endpoint: str, *extra: str, python: tuple[str, ...] = (sys.executable,)) -> subprocess.Popen[str]:
    arguments = ["endpoint", "rollout", endpoint, "--model", V2, "--steps", "10,50,100", *extra]
    return subprocess.Popen(
        [*python, "-m", "creditops", *arguments],
        env=from_process().child_environ(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _as_make_test_in_the_background(coverage_data: Path) -> tuple[str, ...]:
    """Python as `make test &` in a script would run it: SIGINT inherited as ignored (POSIX shells do that
    to background jobs without job control), traced by coverage."""
    launcher = 'trap "" INT; exec "$@"'
    return ("sh", "-c", launcher, "sh", sys.executable, "-m", "coverage", "run", f"--data-file={coverage_data}")


def _wait_for_step(endpoint: str, steps: tuple[str, ...], process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None:
        plan = state.load(from_process().endpoints_dir, endpoint).rollout
        if plan is not None and plan.step in steps:
            return
        time.sleep(0.01)
    raise AssertionError(f"the rollout never reached {steps}: {process.communicate()[0]}")


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT])
def test_a_stopped_rollout_restores_the_traffic(endpoint: str, stop: signal.Signals, tmp_path: Path) -> None:
    _live(endpoint)
    python = _as_make_test_in_the_background(tmp_path / ".coverage")
    rolling = _rollout_process(endpoint, "--requests-per-step", "5000", python=python)
    _wait_for_step(endpoint, ("10%",), rolling)
    time.sleep(0.3)
    assert state.load(from_process().endpoints_dir, endpoint).traffic == {"blue": 90, "green": 10}
    rolling.send_signal(stop)
    output = rolling.communicate(timeout=20)[0]
    assert rolling.returncode == 1
    assert f"rollout of {V2} interrupted ({stop.name}): traffic restored to blue=100%" in output
    after = state.load(from_process().endpoints_dir, endpoint)
    assert (after.traffic, set(after.deployments), after.rollout) == ({"blue": 100}, {"blue"}, None)
    assert {row["model_version"] for row in [LocalTarget(from_process(), endpoint).invoke(SAMPLE).json()]} == {"1"}
    assert (tmp_path / ".coverage").is_file()


def test_a_killed_rollout_is_undone_by_the_next_command(endpoint: str) -> None:
    _live(endpoint)
    rolling = _rollout_process(endpoint, "--requests-per-step", "5000")
    _wait_for_step(endpoint, ("10%",), rolling)
    time.sleep(0.3)
    rolling.kill()
    rolling.communicate(timeout=30)
    _endpoint, report = LocalTarget(from_process(), endpoint).health()
    assert any(item.name == "rollout" and "endpoint recover" in item.detail for item in report)
    said = LocalTarget(from_process(), endpoint).recover()
    assert said.startswith(f"an unfinished rollout of {V2} (pid {rolling.pid}, at '10%'")
    assert said.endswith("was undone: traffic restored to blue=100%")
    after = state.load(from_process().endpoints_dir, endpoint)
    assert (after.traffic, set(after.deployments), after.rollout) == ({"blue": 100}, {"blue"}, None)
    assert LocalTarget(from_process(), endpoint).recover().endswith("has no unfinished rollout: nothing to recover")


def test_a_second_rollout_at_the_same_time_is_refused(endpoint: str) -> None:
    _live(endpoint)
    rolling = _rollout_process(endpoint, "--requests-per-step", "5000")
    _wait_for_step(endpoint, ("deploying", "smoke test", "10%"), rolling)
    with pytest.raises(CreditopsError, match=rf"endpoint {endpoint} is busy: rollout of {V2} \(pid {rolling.pid}"):
        blue_green.rollout(LocalTarget(from_process(), endpoint), V1, SAMPLE)
    with pytest.raises(CreditopsError, match="is busy"):
        LocalTarget(from_process(), endpoint).set_traffic_by_hand({"blue": 100})
    rolling.terminate()
    rolling.communicate(timeout=60)
    assert state.load(from_process().endpoints_dir, endpoint).traffic == {"blue": 100}


def test_a_mirror_step_that_finds_disagreement_aborts_the_rollout(endpoint: str, inverted_model: str) -> None:
    _live(endpoint)
    with pytest.raises(CreditopsError, match=r"rollout of .* rolled back: mirror: (class agreement|mean \|Δ)"):
        blue_green.rollout(
            LocalTarget(from_process(), endpoint), inverted_model, SAMPLE, mirror_percent=50, say=lambda m: None
        )
    after = state.load(from_process().endpoints_dir, endpoint)
    assert (after.traffic, set(after.deployments), after.mirror) == ({"blue": 100}, {"blue"}, {})
    logged = "\n".join(LocalTarget(from_process(), endpoint).logs(50).lines)  # `creditops endpoint logs`
    assert re.search(r"smoke test of green passed", logged)
    assert re.search(r"rollout of .* failed: mirror: .*; traffic restored to blue=100%", logged)
    messages: list[str] = []
    loose = MirrorLimits(min_class_agreement=0.0, max_mean_abs_delta=1.0, max_abs_delta=1.0)
    report = blue_green.rollout(
        LocalTarget(from_process(), endpoint), V2, SAMPLE, mirror_percent=20, mirror_limits=loose, say=messages.append
    )
    assert report.mirror is not None
    assert report.mirror.requests >= 10
    assert report.mirror.rows == report.mirror.requests * len(json.loads(SAMPLE)["input_data"]["data"])
    assert any(message.startswith("green mirrored") for message in messages)
    assert state.load(from_process().endpoints_dir, endpoint).traffic == {"green": 100}
    logged = "\n".join(LocalTarget(from_process(), endpoint).logs(50).lines)
    for said in ("green mirrored", "green at 100%: checks passed", "retired blue", f"rollout of {V2} done"):
        assert said in logged, said


def _cut_model_file(model_dir: Path) -> None:
    model = model_dir / "model.lgb"
    model.write_bytes(model.read_bytes()[: model.stat().st_size // 2])


HARMS = {
    "gone": (lambda model_dir: shutil.rmtree(model_dir), "model file MLmodel of deployment green is missing"),
    "cut": (_cut_model_file, "model file model.lgb of deployment green does not match the SHA-256 recorded"),
}


@pytest.mark.parametrize("harm", HARMS)
def test_a_deployment_that_cannot_load_fails_alone_and_its_share_goes_to_the_others(
    endpoint: str, capsys: pytest.CaptureFixture[str], harm: str
) -> None:
    live, key = _live(endpoint, workers=2)
    green = LocalTarget(from_process(), endpoint).deploy_by_hand("green", V2)
    LocalTarget(from_process(), endpoint).set_traffic_by_hand({"blue": 50, "green": 50})
    # Given green's model files are gone or cut short and a worker restarts (it must load every model again)
    damage, said = HARMS[harm]
    damage(Path(green.model_dir))
    victim = _workers(endpoint)[0]
    os.kill(victim, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while (victim in _workers(endpoint) or len(_workers(endpoint)) < 2) and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(0.5)
    # Then every scoring request is still answered, green's share by blue where green did not load
    assert _load(live.url, key, 1.5, 2)[1] == 0
    _endpoint, report = LocalTarget(from_process(), endpoint).health()
    health = {item.name: item for item in report}
    assert health["blue"].healthy
    assert not health["green"].healthy
    assert said in health["green"].detail
    pinned = LocalTarget(from_process(), endpoint).invoke(SAMPLE, deployment="green")
    assert pinned.status_code in (200, 503)  # the other worker still holds green; the new one says why not
    assert main(["endpoint", "show", endpoint, "--output", "json"]) == 1
    shown = json.loads(capsys.readouterr().out)
    assert shown["traffic"] == {"blue": 50, "green": 50}
    assert {item["name"]: item["healthy"] for item in shown["health"]}["green"] is False


def test_smoke_tests_and_rollout_checks_are_not_logged_as_live_traffic(endpoint: str) -> None:
    from creditops.monitoring.request_log import read

    _live(endpoint)
    logged = state.requests(from_process().endpoints_dir, endpoint)
    assert LocalTarget(from_process(), endpoint).smoke(SAMPLE).passed
    loose = MirrorLimits(min_class_agreement=0.0, max_mean_abs_delta=1.0, max_abs_delta=1.0)
    blue_green.rollout(
        LocalTarget(from_process(), endpoint),
        V2,
        SAMPLE,
        (50, 100),
        mirror_percent=50,
        mirror_limits=loose,
        say=lambda m: None,
    )
    assert list(read(logged, since=0)) == []  # 1 smoke test, a mirror step and 2 steps of probes: none logged
    assert LocalTarget(from_process(), endpoint).invoke(SAMPLE).status_code == 200
    deadline = time.monotonic() + 5
    while len(list(read(logged, since=0))) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert [row["model_version"] for row in read(logged, since=0)] == ["2", "2"]  # a real request is


def test_a_stopped_traffic_change_puts_the_weights_back(endpoint: str, monkeypatch: pytest.MonkeyPatch) -> None:
    _live(endpoint)
    LocalTarget(from_process(), endpoint).deploy_by_hand("green", V2)
    reports = local_process.worker_reports

    def stopped_while_waiting(context: object, name: str, workers: object) -> object:
        os.kill(os.getpid(), signal.SIGTERM)  # Ctrl-C or SIGTERM while the workers take the change
        monkeypatch.setattr(local_process, "worker_reports", reports)
        return []

    monkeypatch.setattr(local_process, "worker_reports", stopped_while_waiting)
    with pytest.raises(
        CreditopsError, match=rf"traffic change on {endpoint} interrupted \(SIGTERM\): traffic restored to blue=100%"
    ):
        LocalTarget(from_process(), endpoint).set_traffic_by_hand({"blue": 50, "green": 50})
    assert state.load(from_process().endpoints_dir, endpoint).traffic == {"blue": 100, "green": 0}
    assert {LocalTarget(from_process(), endpoint).invoke(SAMPLE).json()["model_version"] for _ in range(20)} == {"1"}


def test_mlflow_ping_needs_no_key_and_csv_is_scored_as_json(endpoint: str) -> None:
    live, key = _live(endpoint)
    ping = httpx.get(f"{live.url}/ping")  # MLflow's liveness probe, keyless as /health
    assert ping.status_code == 200
    authorization = {"authorization": f"Bearer {key}"}
    split = json.loads(SAMPLE)["input_data"]
    names = list(FEATURES)
    rows = split["data"][:1]
    csv = (",".join(names) + "\n" + ",".join(map(str, rows[0])) + "\n").encode()
    as_csv = httpx.post(f"{live.url}/invocations", content=csv, headers={**authorization, "content-type": "text/csv"})
    as_json = httpx.post(
        f"{live.url}/invocations",
        json={"dataframe_split": {"columns": names, "data": rows}},
        headers=authorization,
    )
    assert as_csv.status_code == as_json.status_code == 200
    assert as_csv.json()["predictions"] == as_json.json()["predictions"]
    refused = httpx.post(
        f"{live.url}/invocations", content=b"{}", headers={**authorization, "content-type": "application/json"}
    )
    assert (refused.status_code, refused.json()["error_code"]) == (400, "BAD_REQUEST")
