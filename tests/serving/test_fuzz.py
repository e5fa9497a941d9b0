"""Property-based: whatever bytes or JSON a client sends, the answer is a 2xx or a 4xx, never a 5xx,
and the service keeps answering a valid request afterwards."""

import json

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from creditops.data.contract import uci
from creditops.data.schema import FEATURES
from creditops.serving.app import ServiceSettings, create_app
from creditops.serving.errors import RequestError
from creditops.serving.model import LoadedModel
from creditops.serving.requests import FORMATS, parse_request

from ..sample_requests import VALID_ROW

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=8),
)
documents = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=6), st.dictionaries(st.text(max_size=6), children, max_size=6)
    ),
    max_leaves=40,
)
cells = st.one_of(st.sampled_from(VALID_ROW), scalars)
row = st.lists(cells, min_size=21, max_size=25)
columns = st.lists(st.one_of(st.sampled_from(FEATURES), st.integers(-2, 25), st.text(max_size=4)), max_size=25)
near_valid = st.one_of(
    st.builds(lambda key, rows: {key: rows}, st.sampled_from(FORMATS), st.lists(row, max_size=4)),
    st.builds(
        lambda key, cols, rows, index: {key: {"columns": cols, "data": rows, "index": index}},
        st.sampled_from(("input_data", "dataframe_split")),
        columns,
        st.lists(row, max_size=3),
        st.one_of(st.none(), st.lists(documents, max_size=3)),
    ),
)


def _encode(document: object) -> bytes:
    return json.dumps(document, allow_nan=True).encode()


def _status(body: bytes, mode: str = "reject") -> int:
    """200 for a request the parser accepts, else the status of its own error (any other error propagates)."""
    try:
        parse_request(body, uci(), max_rows=10, on_invalid=mode)  # type: ignore[arg-type]
    except RequestError as error:
        return error.status
    return 200


@settings(max_examples=400, deadline=None)
@given(st.one_of(documents, near_valid))
def test_the_parser_raises_nothing_but_its_own_error(document: object) -> None:
    for mode in ("reject", "flag"):
        assert _status(_encode(document), mode) in (200, 400, 413, 422)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300))
def test_random_bytes_are_a_4xx(body: bytes) -> None:
    assert _status(body) in (200, 400, 413, 422)


@pytest.fixture(scope="module")
def client(loaded: LoadedModel) -> TestClient:
    return TestClient(create_app(loaded, ServiceSettings(max_body_bytes=50_000, max_rows=10)))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.one_of(documents.map(_encode), near_valid.map(_encode), st.binary(max_size=200)),
    st.sampled_from(["/score", "/invocations"]),
)
def test_over_http_every_answer_is_2xx_or_4xx_and_the_service_stays_healthy(
    client: TestClient, body: bytes, path: str
) -> None:
    answer = client.post(path, content=body, headers={"content-type": "application/json"})
    assert answer.status_code < 500, answer.text
    assert answer.status_code in (200, 400, 413, 415, 422)
    valid = orjson.dumps({"instances": [VALID_ROW]})
    assert client.post("/score", content=valid, headers={"content-type": "application/json"}).status_code == 200
