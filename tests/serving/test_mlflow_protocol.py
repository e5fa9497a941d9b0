"""/invocations answers MLflow's scoring protocol as MLflow's own scoring server does: /ping, text/csv,
MLflow's error body, and a 400 for every body MLflow cannot read as a table."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from mlflow.exceptions import MlflowException
from mlflow.pyfunc import scoring_server
from starlette.testclient import TestClient

from creditops import processes
from creditops.data.contract import uci
from creditops.data.schema import FEATURES
from creditops.data.synth import synthesize
from creditops.modelling.estimators import TrainedModel
from creditops.serving.app import ServiceSettings, create_app
from creditops.serving.model import LoadedModel
from creditops.tracking.registry import save_model_dir

from ..sample_requests import VALID_ROW

JSON = {"content-type": "application/json"}
CSV = {"content-type": "text/csv"}


@pytest.fixture(scope="module")
def client(loaded: LoadedModel) -> TestClient:
    return TestClient(create_app(loaded, ServiceSettings(deployment="blue", max_body_bytes=20_000, max_rows=50)))


def _csv(rows: list[list[object]], columns: tuple[str, ...] = FEATURES) -> bytes:
    return pd.DataFrame(rows, columns=list(columns)).to_csv(index=False).encode()


def test_ping_answers_as_mlflow_does_and_needs_no_key(loaded: LoadedModel) -> None:
    locked = TestClient(create_app(loaded, ServiceSettings(api_key="k")))
    answer = locked.get("/ping")
    assert (answer.status_code, answer.text) == (200, "\n")
    assert locked.get("/health").json() == {"status": "ok"}
    assert locked.get("/version").status_code == 401


def test_csv_is_scored_as_the_same_rows_in_json(client: TestClient) -> None:
    rows = [VALID_ROW, [*VALID_ROW[:4], 41, *VALID_ROW[5:]]]
    split = {"dataframe_split": {"columns": list(FEATURES), "data": rows}}
    as_json = client.post("/invocations", content=json.dumps(split), headers=JSON)
    as_csv = client.post("/invocations", content=_csv(rows), headers={"content-type": "text/csv; charset=utf-8"})
    assert as_csv.status_code == as_json.status_code == 200
    assert as_csv.json()["predictions"] == as_json.json()["predictions"]


def test_csv_with_the_index_pandas_writes_and_columns_in_another_order(client: TestClient) -> None:
    frame = pd.DataFrame([VALID_ROW, VALID_ROW], columns=list(FEATURES), index=[7, 8])
    shuffled = frame[list(reversed(FEATURES))]
    answer = client.post("/invocations", content=shuffled.to_csv().encode(), headers=CSV)
    assert answer.status_code == 200
    json_answer = client.post("/invocations", content=json.dumps({"instances": [VALID_ROW] * 2}), headers=JSON)
    assert answer.json()["predictions"] == json_answer.json()["predictions"]


@pytest.mark.parametrize(
    ("body", "status", "code", "fragment"),
    [
        (b"", 400, "BAD_REQUEST", "malformed CSV"),
        (b"\xff\xfe,\n", 400, "BAD_REQUEST", "not UTF-8"),
        (b'a,b\n"1,2\n', 400, "BAD_REQUEST", "malformed CSV"),
        (",".join(FEATURES).encode() + b"\n", 422, "INVALID_PARAMETER_VALUE", "empty batch"),
        (_csv([[*VALID_ROW[:4], "old", *VALID_ROW[5:]]]), 422, "INVALID_PARAMETER_VALUE", "column 'AGE' row 0"),
        (_csv([[*VALID_ROW[:4], None, *VALID_ROW[5:]]]), 422, "INVALID_PARAMETER_VALUE", "'AGE' row 0"),
        (_csv([VALID_ROW[:3]], FEATURES[:3]), 422, "INVALID_PARAMETER_VALUE", "missing column(s)"),
        (_csv([VALID_ROW] * 60), 413, "BAD_REQUEST", "more than the maximum of 50"),
    ],
)
def test_bad_csv_is_refused_in_mlflow_shape(
    client: TestClient, body: bytes, status: int, code: str, fragment: str
) -> None:
    answer = client.post("/invocations", content=body, headers=CSV)
    assert answer.status_code == status
    assert answer.json()["error_code"] == code
    assert fragment in answer.json()["message"]


def test_score_stays_json_only_with_its_own_error_shape(client: TestClient) -> None:
    answer = client.post("/score", content=_csv([VALID_ROW]), headers=CSV)
    assert answer.status_code == 415
    assert "content type must be application/json, not text/csv" in answer.json()["error"]


@pytest.mark.parametrize(
    ("content_type", "fragment"),
    [
        ("application/xml", "must be application/json or text/csv, not application/xml"),
        ("text/csv; charset=latin-1", "must be UTF-8, not latin-1"),
        ("", "not missing"),
    ],
)
def test_other_content_types_are_415_as_mlflow_answers(client: TestClient, content_type: str, fragment: str) -> None:
    answer = client.post("/invocations", content=b"a\n1\n", headers={"content-type": content_type})
    assert answer.status_code == 415
    assert answer.json()["error_code"] == "BAD_REQUEST"
    assert fragment in answer.json()["message"]


SPLIT = {"columns": list(FEATURES), "data": [VALID_ROW]}
RECORD = dict(zip(FEATURES, VALID_ROW, strict=True))


@pytest.mark.parametrize(
    "body",
    [
        [RECORD],
        "text",
        {},
        {"params": {}},
        {"dataframe_split": SPLIT, "dataframe_records": [RECORD]},
        {"instances": [VALID_ROW], "inputs": [VALID_ROW]},
        {"dataframe_split": [RECORD]},
        {"dataframe_split": [VALID_ROW]},
        {"dataframe_split": {"columns": list(FEATURES)}},
        {"dataframe_split": {**SPLIT, "rows": 1}},
        {"dataframe_split": {**SPLIT, "columns": "LIMIT_BAL"}},
        {"dataframe_split": {**SPLIT, "data": 5}},
        {"dataframe_split": {**SPLIT, "index": 0}},
        {"dataframe_split": {**SPLIT, "index": [0, 1]}},
        {"dataframe_split": {**SPLIT, "data": [VALID_ROW[:20]]}},
        {"dataframe_records": RECORD},
        {"dataframe_records": [RECORD, VALID_ROW]},
        {"instances": 5},
        {"instances": [VALID_ROW, VALID_ROW[:20]]},
        {"instances": [RECORD, {**RECORD, "EXTRA": 1}]},
        {"instances": {"LIMIT_BAL": [1, 2], "AGE": [3]}},
        {"inputs": {"LIMIT_BAL": 1}},
    ],
)
def test_bodies_mlflow_cannot_read_as_a_table_are_400_bad_request(client: TestClient, body: object) -> None:
    answer = client.post("/invocations", content=json.dumps(body), headers=JSON)
    assert answer.status_code == 400, answer.text
    assert answer.json()["error_code"] == "BAD_REQUEST"
    assert answer.json()["message"]
    assert client.post("/score", content=json.dumps(body), headers=JSON).json()["error"] == answer.json()["message"]


@pytest.mark.parametrize(
    "body",
    [
        {"dataframe_split": SPLIT, "params": {"temperature": 1}, "unknown": 1},
        {"dataframe_split": {"data": [VALID_ROW]}},
        {"dataframe_split": {**SPLIT, "index": [42]}},
        {"dataframe_records": [RECORD]},
        {"instances": [RECORD]},
        {"instances": {name: [value] for name, value in RECORD.items()}},
        {"inputs": [VALID_ROW]},
    ],
)
def test_bodies_mlflow_reads_are_scored(client: TestClient, body: object) -> None:
    assert _mlflow_refusal(json.dumps(body)) is None
    answer = client.post("/invocations", content=json.dumps(body), headers=JSON)
    assert answer.status_code == 200, answer.text
    assert len(answer.json()["predictions"]) == 1


def _mlflow_refusal(body: str) -> str | None:
    """Why MLflow's scoring server refuses `body` before any model sees it (None: it reads a table).
    No schema: the shape alone, since creditops answers a value its contract refuses with its own 422."""
    try:
        data, _params = scoring_server._split_data_and_params(body)
        scoring_server.infer_and_parse_data(data, None)
    except MlflowException as error:
        return error.message
    return None


CELLS = st.one_of(st.integers(-5, 5), st.sampled_from([20000, 1.5, None, "x", True]))
ROWS = st.one_of(
    st.lists(st.lists(CELLS, min_size=22, max_size=24), max_size=3),
    st.lists(st.one_of(st.just(RECORD), st.just(VALID_ROW), CELLS), max_size=3),
    st.lists(st.just(VALID_ROW), min_size=1, max_size=2),
)
NAMES = st.one_of(st.just(list(FEATURES)), st.lists(st.sampled_from([*FEATURES, "EXTRA", 3]), max_size=24), CELLS)
SPLITS = st.fixed_dictionaries(
    {},
    optional={"columns": NAMES, "data": st.one_of(ROWS, CELLS), "index": st.one_of(st.lists(CELLS, max_size=3), CELLS)},
)
SPLIT_EXTRA = st.dictionaries(st.sampled_from(["columns", "data", "index", "orient"]), st.just([]), max_size=1)
CONTENT = st.one_of(
    SPLITS,
    st.builds(lambda split, extra: {**split, **extra}, SPLITS, SPLIT_EXTRA),
    ROWS,
    CELLS,
    st.just({name: [value] for name, value in RECORD.items()}),
    st.dictionaries(st.sampled_from(FEATURES), st.one_of(st.lists(CELLS, max_size=2), CELLS), max_size=3),
)
BODIES = st.dictionaries(
    st.sampled_from(["dataframe_split", "dataframe_records", "instances", "inputs", "params", "explain", "other"]),
    CONTENT,
    max_size=3,
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=BODIES)
@example(body={"instances": {"data": [[0] * 22, [0] * 23]}})  # a column of lists numpy cannot make one array of
def test_what_mlflow_refuses_as_no_table_is_a_400_here(client: TestClient, body: dict[str, object]) -> None:
    text = json.dumps(body)
    answer = client.post("/invocations", content=text, headers=JSON)
    assert answer.status_code in (200, 400, 413, 422), answer.text
    if _mlflow_refusal(text) is not None:
        assert answer.status_code == 400, (_mlflow_refusal(text), answer.text)
    if answer.status_code != 200:
        assert set(answer.json()) >= {"error_code", "message"}


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=30,
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(payload=JSON_VALUES, key=st.sampled_from([None, *scoring_server.SUPPORTED_FORMATS, "input_data"]))
def test_any_json_body_is_answered_without_a_5xx(client: TestClient, payload: object, key: str | None) -> None:
    body = json.dumps(payload if key is None else {key: payload})
    answer = client.post("/invocations", content=body, headers=JSON)
    assert answer.status_code in (200, 400, 413, 415, 422)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    text=st.text(max_size=300) | st.lists(st.sampled_from([*FEATURES[:4], ",", "\n", '"', "1", "x", ""])).map("".join)
)
def test_any_csv_body_is_answered_without_a_5xx(client: TestClient, text: str) -> None:
    answer = client.post("/invocations", content=text.encode("utf-8", "surrogatepass"), headers=CSV)
    assert answer.status_code in (200, 400, 413, 415, 422)


@pytest.fixture(scope="module")
def served(small_model: TrainedModel, tmp_path_factory: pytest.TempPathFactory):
    """A real `creditops serve` of a saved model on a free port of 127.0.0.1, stopped after the module."""
    root = tmp_path_factory.mktemp("mlflow-protocol")
    model_dir = save_model_dir(small_model, root / "model")
    port = processes.free_port()
    log = root / "serve.log"
    environment = {"CREDITOPS_WORKSPACE": str(root / "workspace"), "MLFLOW_TRACKING_URI": ""}
    pid = processes.start(["creditops", "serve", "--model", str(model_dir), "--port", str(port)], log, environment)
    try:
        processes.wait_until(f"http://127.0.0.1:{port}/ping", pid, log)
        yield model_dir, port
    finally:
        processes.stop(pid)


@pytest.mark.e2e
def test_mlflow_scoring_client_predicts_what_the_pyfunc_model_predicts(served: tuple[Path, int]) -> None:
    import mlflow.pyfunc
    import requests
    from mlflow.pyfunc.scoring_server.client import ScoringServerClient

    model_dir, port = served
    rows = synthesize(40, 11)[list(uci().features)]
    client = ScoringServerClient("127.0.0.1", port)
    client.wait_server_ready(timeout=30)
    expected = np.asarray(mlflow.pyfunc.load_model(str(model_dir)).predict(rows), dtype=float)
    answered = client.invoke(rows).get_predictions()
    np.testing.assert_allclose(answered["probability"].to_numpy(), expected, rtol=0, atol=1e-12)
    as_csv = requests.post(
        f"http://127.0.0.1:{port}/invocations", data=rows.to_csv(index=False), headers=CSV, timeout=30
    )
    assert as_csv.status_code == 200
    got = [row["probability"] for row in as_csv.json()["predictions"]]
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-12)
    refused = requests.post(f"http://127.0.0.1:{port}/invocations", data="{}", headers=JSON, timeout=30)
    assert refused.status_code == 400
    assert refused.json()["error_code"] == "BAD_REQUEST"
