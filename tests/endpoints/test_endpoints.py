"""Real endpoints: a router and `creditops serve` processes on free ports, always deleted."""

import json
from collections import Counter
from pathlib import Path

import httpx
import pytest

from creditops import processes
from creditops.context import from_process
from creditops.endpoints import blue_green, state
from creditops.endpoints.targets import local_process
from creditops.endpoints.targets.local import LocalTarget
from creditops.errors import CreditopsError

from ..sample_requests import SAMPLE

pytestmark = pytest.mark.e2e
V1, V2 = "models:/credit_default_model/1", "models:/credit_default_model/2"


def _post(url: str, body: bytes, **headers: str) -> httpx.Response:
    return httpx.post(f"{url}/score", content=body, headers={"content-type": "application/json", **headers})


def test_deploy_invoke_key_auth_and_header_routing(endpoint: str) -> None:
    LocalTarget(from_process(), endpoint).deploy_by_hand("blue", V1)
    with pytest.raises(CreditopsError, match="must sum to 100, not 90"):
        LocalTarget(from_process(), endpoint).set_traffic_by_hand({"blue": 90})
    LocalTarget(from_process(), endpoint).set_traffic_by_hand({"blue": 100})
    answer = LocalTarget(from_process(), endpoint).invoke(SAMPLE)
    assert answer.status_code == 200
    assert answer.json()["model_version"] == "1"

    url = state.load(from_process().endpoints_dir, endpoint).url
    assert _post(url, SAMPLE).status_code == 401
    key = state.read_key(from_process().endpoints_dir, endpoint)
    assert _post(url, SAMPLE, authorization=f"Bearer {key}").status_code == 200

    LocalTarget(from_process(), endpoint).deploy_by_hand("green", V2)
    routed = LocalTarget(from_process(), endpoint).invoke(SAMPLE, deployment="green")
    assert routed.json()["model_version"] == "2"
    assert routed.headers["azureml-model-deployment"] == "green"
    assert LocalTarget(from_process(), endpoint).invoke(SAMPLE, deployment="purple").status_code == 404


def test_traffic_split_follows_the_weights(endpoint: str) -> None:
    LocalTarget(from_process(), endpoint).deploy_by_hand("blue", V1)
    LocalTarget(from_process(), endpoint).deploy_by_hand("green", V2)
    LocalTarget(from_process(), endpoint).set_traffic_by_hand({"blue": 70, "green": 30})
    url, key = (
        state.load(from_process().endpoints_dir, endpoint).url,
        state.read_key(from_process().endpoints_dir, endpoint),
    )
    headers = {"content-type": "application/json", "authorization": f"Bearer {key}"}
    with httpx.Client(headers=headers) as client:
        served = Counter(
            client.post(f"{url}/score", content=SAMPLE).headers["azureml-model-deployment"] for _ in range(1000)
        )
    assert served["blue"] + served["green"] == 1000
    assert 0.25 <= served["green"] / 1000 <= 0.35  # 30 % ± 3.5 standard deviations


def test_original_request_over_http_names_the_invalid_row(endpoint: str, original_request_bytes: bytes) -> None:
    LocalTarget(from_process(), endpoint).deploy_by_hand("blue", V1)
    LocalTarget(from_process(), endpoint).set_traffic_by_hand({"blue": 100})
    answer = LocalTarget(from_process(), endpoint).invoke(original_request_bytes)
    assert answer.status_code == 422
    assert "column 'SEX' row 1: 9 is not an allowed code" in answer.json()["error"]
    first_row_only = json.loads(original_request_bytes)
    first_row_only["input_data"]["data"] = first_row_only["input_data"]["data"][:1]
    first_row_only["input_data"]["index"] = [0]
    assert LocalTarget(from_process(), endpoint).invoke(json.dumps(first_row_only).encode()).status_code == 200


def test_state_survives_a_restart(endpoint: str) -> None:
    LocalTarget(from_process(), endpoint).deploy_by_hand("blue", V1)
    LocalTarget(from_process(), endpoint).deploy_by_hand("green", V2)
    LocalTarget(from_process(), endpoint).set_traffic_by_hand({"blue": 40, "green": 60})
    before = state.load(from_process().endpoints_dir, endpoint)
    # Given every process is gone, as after a reboot
    processes.stop(before.pid)
    assert not processes.port_in_use(before.port)
    # When the endpoint is started again, then it has the same address, deployments and weights
    LocalTarget(from_process(), endpoint).start()
    after = state.load(from_process().endpoints_dir, endpoint)
    assert after.port == before.port
    assert after.traffic == {"blue": 40, "green": 60}
    assert {d.model_uri for d in after.deployments.values()} == {V1, V2}
    assert LocalTarget(from_process(), endpoint).invoke(SAMPLE).status_code == 200


def test_delete_leaves_no_process_and_frees_the_port(model_workspace) -> None:
    LocalTarget(from_process(), "to-delete").create(auth="none", workers=2)
    endpoint = state.load(from_process().endpoints_dir, "to-delete")
    LocalTarget(from_process(), "to-delete").deploy_by_hand("blue", V1)
    workers = local_process.supervision(from_process(), "to-delete")["workers"]
    LocalTarget(from_process(), "to-delete").delete()
    assert not processes.port_in_use(endpoint.port)
    assert not any(processes.alive(pid) for pid in [endpoint.pid, *workers])
    assert "to-delete" not in state.names(from_process().endpoints_dir)
    assert not (from_process().endpoints_dir / "to-delete").exists()


def test_delete_with_keep_logs_keeps_only_the_logs(model_workspace) -> None:
    LocalTarget(from_process(), "to-keep").create(auth="key")
    endpoint = state.load(from_process().endpoints_dir, "to-keep")
    LocalTarget(from_process(), "to-keep").delete(keep_logs=True)
    folder = from_process().endpoints_dir / "to-keep"
    assert not processes.port_in_use(endpoint.port)
    assert (folder / "logs" / "front-door.log").is_file()
    assert sorted(path.name for path in folder.iterdir()) == ["logs"]
    assert "to-keep" not in state.names(from_process().endpoints_dir)
    LocalTarget(from_process(), "to-keep").create(auth="none")  # the name is free again
    LocalTarget(from_process(), "to-keep").delete()


def test_serve_with_on_invalid_flag_answers_the_original_smoke_request(
    model_workspace: Path, original_request_bytes: bytes
) -> None:
    port = processes.free_port()
    log = model_workspace / "flag-serve.log"
    arguments = ["creditops", "serve", "--model", V1, "--port", str(port), "--on-invalid", "flag"]
    pid = processes.start(arguments, log, env=from_process().child_environ())
    try:
        processes.wait_until(f"http://127.0.0.1:{port}/ready", pid, log)
        answer = _post(f"http://127.0.0.1:{port}", original_request_bytes)
        assert answer.status_code == 200
        first, second = answer.json()["predictions"]
        assert "warnings" not in first
        assert "SEX: 9 is not an allowed code (1..2)" in second["warnings"]
    finally:
        processes.stop(pid)


def test_rollout_shifts_traffic_retires_the_old_and_rollback_returns(endpoint: str) -> None:
    messages: list[str] = []
    blue_green.rollout(LocalTarget(from_process(), endpoint), V1, SAMPLE, (100,), say=messages.append)
    assert state.load(from_process().endpoints_dir, endpoint).traffic == {"blue": 100}
    blue_green.rollout(
        LocalTarget(from_process(), endpoint),
        "models:/credit_default_model@champion",
        SAMPLE,
        (10, 50, 100),
        say=messages.append,
    )
    assert not any("rolled back" in message for message in messages)
    after = state.load(from_process().endpoints_dir, endpoint)
    assert after.traffic == {"green": 100}
    assert set(after.deployments) == {"green"}
    assert after.deployments["green"].model_uri == V2  # the alias is pinned to its version
    assert any("green at 10%" in message for message in messages)
    blue_green.rollback(LocalTarget(from_process(), endpoint), SAMPLE, say=messages.append)
    back = state.load(from_process().endpoints_dir, endpoint)
    assert back.live().model_uri == V1
    assert LocalTarget(from_process(), endpoint).invoke(SAMPLE).json()["model_version"] == "1"


def test_rollout_of_a_broken_model_rolls_back_with_traffic_unchanged(endpoint: str, broken_model: str) -> None:
    LocalTarget(from_process(), endpoint).deploy_by_hand("blue", V1)
    LocalTarget(from_process(), endpoint).deploy_by_hand("green", V2)
    LocalTarget(from_process(), endpoint).set_traffic_by_hand({"blue": 80, "green": 20})
    with pytest.raises(CreditopsError, match="green still carries 20% of the traffic"):
        blue_green.rollout(LocalTarget(from_process(), endpoint), broken_model, SAMPLE, say=lambda message: None)
    LocalTarget(from_process(), endpoint).set_traffic_by_hand({"blue": 100})
    LocalTarget(from_process(), endpoint).remove("green")
    before = state.load(from_process().endpoints_dir, endpoint)
    with pytest.raises(CreditopsError, match=r"rolled back: smoke test of green failed: probabilities in"):
        blue_green.rollout(LocalTarget(from_process(), endpoint), broken_model, SAMPLE, say=lambda message: None)
    after = state.load(from_process().endpoints_dir, endpoint)
    assert after.traffic == before.traffic
    assert set(after.deployments) == {"blue"}
    assert after.deployments["blue"] == before.deployments["blue"]
    assert LocalTarget(from_process(), endpoint).invoke(SAMPLE).status_code == 200


def test_bad_requests_to_a_local_endpoint_are_clear(endpoint: str) -> None:
    with pytest.raises(CreditopsError, match="exists already"):
        LocalTarget(from_process(), endpoint).create()
    with pytest.raises(CreditopsError, match="no deployment named blue"):
        LocalTarget(from_process(), endpoint).set_traffic_by_hand({"blue": 100})
    with pytest.raises(CreditopsError, match="has no version 99"):
        LocalTarget(from_process(), endpoint).deploy_by_hand("blue", "models:/credit_default_model/99")
    with pytest.raises(CreditopsError, match="steps must rise to 100"):
        blue_green.rollout(LocalTarget(from_process(), endpoint), V1, SAMPLE, (50, 20))
    with pytest.raises(CreditopsError, match="no endpoint named 'nowhere'"):
        LocalTarget(from_process(), "nowhere").invoke(SAMPLE)
