"""The OpenAPI description: every accepted request format has a schema, the examples are accepted by
the service, the answers match theirs, and the docs pages need no network."""

import json
import shutil
import subprocess
from pathlib import Path

import jsonschema
import pytest
from starlette.testclient import TestClient

from creditops.data.contract import uci
from creditops.data.schema import FEATURES
from creditops.serving.app import ServiceSettings, create_app
from creditops.serving.model import LoadedModel
from creditops.serving.openapi import ANSWER, request_formats, request_schema

from ..sample_requests import SAMPLE_REQUEST, VALID_ROW

REQUEST_FORMATS = request_formats(uci())
REQUEST_SCHEMA = request_schema(uci())
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture
def client(loaded: LoadedModel) -> TestClient:
    return TestClient(create_app(loaded, ServiceSettings(deployment="blue")))


def _requests() -> dict[str, object]:
    row = dict(zip(FEATURES, VALID_ROW, strict=True))
    return {
        "input_data": {"input_data": {"columns": list(FEATURES), "index": [7], "data": [VALID_ROW]}},
        "dataframe_split": {"dataframe_split": {"columns": list(FEATURES), "data": [VALID_ROW]}},
        "dataframe_records": {"dataframe_records": [row]},
        "instances": {"instances": [row, row]},
        "inputs": {"inputs": [VALID_ROW]},
    }


def test_every_request_format_has_a_schema() -> None:
    assert set(REQUEST_FORMATS) == set(_requests())


@pytest.mark.parametrize("key", list(_requests()))
def test_each_format_valid_by_the_schema_is_answered_and_the_answer_matches_the_schema(
    client: TestClient, key: str
) -> None:
    body = _requests()[key]
    jsonschema.validate(body, REQUEST_SCHEMA)
    answer = client.post("/score", content=json.dumps(body), headers={"content-type": "application/json"})
    assert answer.status_code == 200, answer.text
    jsonschema.validate(answer.json(), ANSWER)


def test_the_documented_examples_are_the_shipped_sample_and_validate(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    for route in ("/score", "/invocations"):
        content = schema["paths"][route]["post"]["requestBody"]["content"]["application/json"]
        assert [item["title"] for item in content["schema"]["oneOf"]] == list(REQUEST_FORMATS)
        assert content["examples"]["azureml"]["value"] == json.loads(SAMPLE_REQUEST.read_text())
        for example in content["examples"].values():
            jsonschema.validate(example["value"], content["schema"])
        assert schema["paths"][route]["post"]["responses"]["200"]["content"]["application/json"]["schema"] == ANSWER


def test_rows_of_two_kinds_are_outside_the_schema_and_refused(client: TestClient) -> None:
    mixed = {"instances": [dict(zip(FEATURES, VALID_ROW, strict=True)), VALID_ROW]}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(mixed, REQUEST_SCHEMA)
    answer = client.post("/score", content=json.dumps(mixed), headers={"content-type": "application/json"})
    assert answer.status_code == 400  # not a table: as MLflow's scoring server answers


def test_a_body_with_two_formats_is_outside_the_schema_and_refused(client: TestClient) -> None:
    both = {**_requests()["inputs"], **_requests()["instances"]}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(both, REQUEST_SCHEMA)
    answer = client.post("/score", content=json.dumps(both), headers={"content-type": "application/json"})
    assert answer.status_code == 400  # two formats at once: as MLflow's scoring server answers


def test_docs_pages_load_their_assets_from_the_service_not_a_cdn(client: TestClient) -> None:
    for page in ("/docs", "/redoc"):
        html = client.get(page).text
        assert "cdn." not in html
        assets = [part.split('"')[0] for part in html.split('src="')[1:]] + [
            part.split('"')[0] for part in html.split('href="')[1:] if part.split('"')[0].endswith(".css")
        ]
        assert assets
        for asset in assets:
            assert asset.startswith("/"), asset
            assert client.get(asset).status_code == 200, asset


@pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (.ci/run installs it)")
@pytest.mark.e2e
def test_docs_render_the_operations_in_headless_chromium(tmp_path: Path, loaded: LoadedModel) -> None:
    import threading
    import time

    import uvicorn

    from creditops import processes

    assert CHROMIUM is not None
    port = processes.free_port()
    config = uvicorn.Config(create_app(loaded, ServiceSettings()), host="127.0.0.1", port=port, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 30
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.05)
        dom = subprocess.run(
            [
                CHROMIUM,
                *("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run"),
                *("--disable-background-networking", "--disable-component-update", "--disable-sync"),
                f"--user-data-dir={tmp_path / 'profile'}",
                "--virtual-time-budget=15000",
                "--dump-dom",
                f"http://127.0.0.1:{port}/docs",
            ],
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        ).stdout
    finally:
        server.should_exit = True
        thread.join(timeout=10)
    assert 'class="swagger-ui' in dom
    for operation in ("/score", "/invocations", "/health", "/ready"):
        assert f'data-path="{operation}"' in dom, operation
