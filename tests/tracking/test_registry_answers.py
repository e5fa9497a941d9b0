"""A store that cannot answer is never read as an empty registry: refusals and failures stop the caller."""

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from creditops.errors import CreditopsError
from creditops.tracking.registry import Registry


def _answering(status: int, body: dict[str, str]) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            payload = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = _answer  # noqa: N815  # the names http.server calls

        def log_message(self, *args: object) -> None:
            return

    return Handler


@pytest.fixture
def store(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    status, body = request.param
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    server = ThreadingHTTPServer(("127.0.0.1", 0), _answering(status, body))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


UNAUTHENTICATED = (401, {"error_code": "UNAUTHENTICATED", "message": "You are not authenticated."})
FORBIDDEN = (403, {"error_code": "PERMISSION_DENIED", "message": "Permission denied"})
BROKEN = (500, {"error_code": "INTERNAL_ERROR", "message": "database is gone"})


@pytest.mark.parametrize("store", [UNAUTHENTICATED], indirect=True)
def test_a_wrong_password_is_not_no_versions(store: str) -> None:
    with pytest.raises(CreditopsError, match="wants an account: set MLFLOW_TRACKING_USERNAME"):
        Registry(store).versions("credit_default_model")


@pytest.mark.parametrize("store", [FORBIDDEN], indirect=True)
def test_a_refusal_names_the_role(store: str) -> None:
    with pytest.raises(CreditopsError, match="may not read the versions of credit_default_model"):
        Registry(store).versions("credit_default_model")


@pytest.mark.parametrize("store", [BROKEN], indirect=True)
@pytest.mark.parametrize(
    "ask",
    [
        lambda registry: registry.versions("credit_default_model"),
        lambda registry: registry.champion("credit_default_model"),
        lambda registry: registry.describe("credit_default_model", "1"),
        lambda registry: registry.names(),
        lambda registry: registry.find_by_fingerprint("credit_default_model", "abc"),
    ],
)
def test_a_failing_store_stops_every_lookup(store: str, ask: object) -> None:
    with pytest.raises(CreditopsError, match=r"did not answer \(.*\); check it runs") as failure:
        ask(Registry(store))  # type: ignore[operator]
    assert "\n" not in str(failure.value)


def test_an_absent_version_is_not_found_not_a_failure(tmp_path: object) -> None:
    uri = f"sqlite:///{tmp_path}/mlflow.db"
    registry = Registry(uri)
    assert registry.versions("credit_default_model") == []
    with pytest.raises(CreditopsError, match="no registered model named 'credit_default_model'"):
        registry.resolve("credit_default_model/3")
