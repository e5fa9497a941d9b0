import json

import pytest
from starlette.testclient import TestClient

from creditops.serving.app import ServiceSettings, create_app
from creditops.serving.model import LoadedModel

from ..sample_requests import SAMPLE_REQUEST, VALID_ROW


@pytest.fixture
def client(loaded: LoadedModel) -> TestClient:
    return TestClient(create_app(loaded, ServiceSettings(deployment="blue", max_body_bytes=20_000, max_rows=50)))


def _post(client: TestClient, path: str, payload: object, **headers: str):
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return client.post(path, content=body, headers={"content-type": "application/json", **headers})


def test_score_answers_class_and_probability_per_row_with_model_and_deployment(client: TestClient) -> None:
    answer = _post(client, "/score", json.loads(SAMPLE_REQUEST.read_text()))
    assert answer.status_code == 200
    body = answer.json()
    assert body["model_version"] == "3"
    assert body["deployment"] == "blue"
    assert [row["index"] for row in body["predictions"]] == [0, 1]
    for row in body["predictions"]:
        assert row["class"] in (0, 1)
        assert 0 <= row["probability"] <= 1
        assert row["class"] == int(row["probability"] >= body["threshold"])
    assert answer.headers["azureml-model-deployment"] == "blue"


def test_invocations_answers_in_mlflow_shape(client: TestClient) -> None:
    answer = _post(client, "/invocations", {"dataframe_split": {"columns": list(range(23)), "data": [VALID_ROW]}})
    assert answer.status_code == 200
    predictions = answer.json()["predictions"]
    assert len(predictions) == 1
    assert set(predictions[0]) == {"class", "probability"}


@pytest.mark.parametrize(
    ("body", "status", "fragment"),
    [
        (b"{not json", 400, "malformed JSON"),
        ({"instances": []}, 422, "empty batch"),
        ({"instances": [VALID_ROW[:3]]}, 422, "row 0: 3 values"),
        ({"instances": [[*VALID_ROW[:2], 8, *VALID_ROW[3:]]]}, 422, "column 'EDUCATION' row 0"),
        ({"instances": [VALID_ROW] * 51}, 413, "maximum of 50"),
        ({"instances": [VALID_ROW] * 400}, 413, "over the limit of 20000"),
    ],
)
def test_bad_input_gets_a_4xx_naming_the_problem(client: TestClient, body: object, status: int, fragment: str) -> None:
    answer = _post(client, "/score", body)
    assert answer.status_code == status
    assert fragment in answer.json()["error"]
    # and the service keeps answering
    assert _post(client, "/score", {"instances": [VALID_ROW]}).status_code == 200


def test_wrong_content_type_is_415(client: TestClient) -> None:
    answer = client.post("/score", content=b"a=1", headers={"content-type": "application/x-www-form-urlencoded"})
    assert answer.status_code == 415
    assert "application/json" in answer.json()["error"]


def test_get_on_a_scoring_route_is_405(client: TestClient) -> None:
    assert client.get("/score").status_code == 405


def test_api_key_is_required_when_configured(loaded: LoadedModel) -> None:
    client = TestClient(create_app(loaded, ServiceSettings(api_key="s3cret")))
    payload = {"instances": [VALID_ROW]}
    assert _post(client, "/score", payload).status_code == 401
    assert _post(client, "/score", payload, authorization="Bearer wrong").status_code == 401
    answer = _post(client, "/score", payload, authorization="Bearer s3cret")
    assert answer.status_code == 200
    assert "s3cret" not in client.get("/metrics").text


def test_health_ready_version_and_docs(client: TestClient) -> None:
    assert client.get("/health").json() == {"status": "ok"}
    assert client.get("/ready").json()["ready"] is True
    version = client.get("/version").json()
    assert version["model_uri"] == "models:/credit_default_model/3"
    assert version["deployment"] == "blue"
    schema = client.get("/openapi.json").json()
    assert {"/score", "/invocations", "/health", "/metrics"} <= set(schema["paths"])
    assert client.get("/docs").status_code == 200


def test_metrics_count_requests_errors_and_latency_per_route(client: TestClient) -> None:
    _post(client, "/score", {"instances": [VALID_ROW]})
    _post(client, "/score", {"instances": []})
    _post(client, "/invocations", {"instances": [VALID_ROW]})
    text = client.get("/metrics").text
    assert 'creditops_requests_total{deployment="blue",route="/score",status="200"} 1.0' in text
    assert 'creditops_errors_total{deployment="blue",route="/score",status="422"} 1.0' in text
    assert 'creditops_request_seconds_count{deployment="blue",route="/invocations"} 1.0' in text


@pytest.mark.parametrize("path", ["/version", "/metrics", "/nowhere"])
def test_with_a_key_only_the_probes_and_docs_answer_without_it(loaded: LoadedModel, path: str) -> None:
    client = TestClient(create_app(loaded, ServiceSettings(api_key="s3cret")))
    assert client.get(path).status_code == 401
    assert client.get(path, headers={"authorization": "Bearer wrong"}).status_code == 401
    assert client.get(path, headers={"authorization": "Bearer s3cret"}).status_code in (200, 404)
    for probe in ("/health", "/ready"):
        assert client.get(probe).status_code == 200


def test_flag_mode_answers_the_original_request_with_warnings_on_its_second_row(
    loaded: LoadedModel, original_request_bytes: bytes
) -> None:
    strict = TestClient(create_app(loaded, ServiceSettings()))
    assert _post(strict, "/score", original_request_bytes).status_code == 422
    flagging = TestClient(create_app(loaded, ServiceSettings(on_invalid="flag")))
    answer = _post(flagging, "/score", original_request_bytes)
    assert answer.status_code == 200
    first, second = answer.json()["predictions"]
    assert "warnings" not in first
    assert "SEX: 9 is not an allowed code (1..2)" in second["warnings"]
    assert any(warning.startswith("AGE: 6 is outside") for warning in second["warnings"])
    mlflow_shape = _post(flagging, "/invocations", original_request_bytes).json()["predictions"]
    assert "warnings" in mlflow_shape[1]


def test_explain_adds_the_principal_reasons_of_each_row_and_nothing_without_it(client: TestClient) -> None:
    from creditops.data.contract import uci

    request = json.loads(SAMPLE_REQUEST.read_text())
    plain = _post(client, "/score", request).json()
    explained = _post(client, "/score?explain=3", request).json()
    assert all("reasons" not in row for row in plain["predictions"])
    codes = {group.code for group in uci().reasons}
    for row, same in zip(explained["predictions"], plain["predictions"], strict=True):
        assert row["probability"] == same["probability"]
        assert len(row["reasons"]) <= 3
        assert all(reason["code"] in codes and reason["contribution"] > 0 for reason in row["reasons"])
        contributions = [reason["contribution"] for reason in row["reasons"]]
        assert contributions == sorted(contributions, reverse=True)
    mlflow_shape = _post(client, "/invocations?explain=1", request).json()
    assert all(len(row["reasons"]) <= 1 for row in mlflow_shape["predictions"])
    in_body = _post(client, "/score", {**request, "explain": 3}).json()
    assert in_body["predictions"] == explained["predictions"]


@pytest.mark.parametrize("query", ["explain=0", "explain=11", "explain=abc", "explain=-1", "explain="])
def test_a_bad_explain_is_a_400_naming_the_range(client: TestClient, query: str) -> None:
    answer = _post(client, f"/score?{query}", json.loads(SAMPLE_REQUEST.read_text()))
    if query == "explain=":
        assert answer.status_code == 200  # an empty value asks for nothing
        return
    assert answer.status_code == 400
    assert "explain must be a whole number of reasons from 1 to 10" in answer.json()["error"]


@pytest.mark.parametrize("path", ["/docs", "/redoc", "/openapi.json", "/static-offline-docs/swagger-ui.css"])
def test_the_docs_open_in_a_browser_without_the_key(loaded: LoadedModel, path: str) -> None:
    # Given an app that needs a key, a browser (no Authorization header) reads the API's documentation
    client = TestClient(create_app(loaded, ServiceSettings(api_key="s3cret")))
    answer = client.get(path)
    assert answer.status_code == 200
    assert "s3cret" not in answer.text
    # … but the documentation paths take nothing else without the key, and what names the model stays locked
    assert client.post(path, json={}).status_code == 401
    assert client.get("/version").status_code == 401


def test_the_docs_declare_the_bearer_key_on_every_route_but_the_probes(loaded: LoadedModel) -> None:
    schema = TestClient(create_app(loaded, ServiceSettings(api_key="s3cret"))).get("/openapi.json").json()
    assert schema["components"]["securitySchemes"]["bearer"] == {"type": "http", "scheme": "bearer"}
    assert schema["paths"]["/score"]["post"]["security"] == [{"bearer": []}]
    assert schema["paths"]["/version"]["get"]["security"] == [{"bearer": []}]
    assert schema["paths"]["/health"]["get"]["security"] == []
    assert "credit_default_model" not in json.dumps(schema)  # the docs do not name the model
