"""`creditops ci approver` against a real local HTTP server answering like GitHub and Azure DevOps."""

import json
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from creditops.cli import main

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "approvals"
RUN = "/repos/acme/credit/actions/runs/42/approvals"
TIMELINE = "/fabrikam/proj-id/_apis/build/builds/1234/timeline"
APPROVALS = "/fabrikam/proj-id/_apis/pipelines/approvals"


@dataclass
class Server:
    """Answers GET path → (status, body); records each request's path, query and Authorization header."""

    url: str
    routes: dict[str, tuple[int, bytes]] = field(default_factory=dict)
    seen: list[tuple[str, str]] = field(default_factory=list)

    def answer(self, path: str, status: int, body: bytes | str) -> None:
        self.routes[path] = (status, body.encode() if isinstance(body, str) else body)

    def recorded(self, path: str, name: str) -> None:
        self.answer(path, 200, (FIXTURES / name).read_bytes())


@pytest.fixture
def server() -> Iterator[Server]:
    state = Server(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            state.seen.append((self.path, self.headers.get("Authorization", "")))
            status, body = state.routes.get(self.path.split("?")[0], (404, b'{"message": "Not Found"}'))
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            return

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield state
    httpd.shutdown()
    httpd.server_close()
    thread.join(timeout=5)


@pytest.fixture
def github(server: Server, monkeypatch: pytest.MonkeyPatch) -> Server:
    for name, value in {
        "GITHUB_API_URL": server.url,
        "GITHUB_REPOSITORY": "acme/credit",
        "GITHUB_RUN_ID": "42",
        "GITHUB_TOKEN": "ghs_test",
    }.items():
        monkeypatch.setenv(name, value)
    return server


@pytest.fixture
def azure_devops(server: Server, monkeypatch: pytest.MonkeyPatch) -> Server:
    for name, value in {
        "SYSTEM_COLLECTIONURI": f"{server.url}/fabrikam/",
        "SYSTEM_TEAMPROJECTID": "proj-id",
        "SYSTEM_TEAMPROJECT": "Credit Ops",
        "BUILD_BUILDID": "1234",
        "SYSTEM_ACCESSTOKEN": "ado_test",
    }.items():
        monkeypatch.setenv(name, value)
    return server


def test_github_prints_only_the_login_of_the_prod_approver(github: Server, capsys: pytest.CaptureFixture[str]) -> None:
    github.recorded(RUN, "github_approved.json")

    assert main(["ci", "approver", "--from", "github", "--env", "prod"]) == 0

    assert capsys.readouterr().out == "risk-officer\n"
    assert github.seen == [(RUN, "Bearer ghs_test")]


def test_github_environment_option_and_json(github: Server, capsys: pytest.CaptureFixture[str]) -> None:
    github.recorded(RUN, "github_approved.json")

    assert main(["ci", "approver", "--from", "github", "--env", "prod", "--environment", "staging", "-o", "json"]) == 0

    assert json.loads(capsys.readouterr().out) == {
        "approver": "octocat",
        "comment": "Ship it!",
        "at": None,
        "source": "github",
    }


def test_azure_devops_reads_the_timeline_then_the_approvals(
    azure_devops: Server, capsys: pytest.CaptureFixture[str]
) -> None:
    azure_devops.recorded(TIMELINE, "ado_timeline.json")
    azure_devops.recorded(APPROVALS, "ado_approvals.json")

    assert main(["ci", "approver", "--from", "azure-devops", "--env", "prod", "-o", "json"]) == 0

    assert json.loads(capsys.readouterr().out)["approver"] == "jane.doe@fabrikam.com"
    (timeline, _), (approvals, token) = azure_devops.seen
    assert timeline.startswith(TIMELINE + "?api-version=7.1")
    assert "approvalIds=ee14f612-6838-43c0-b445-db238ef14153" in approvals
    assert "%24expand=steps" in approvals
    assert token == "Bearer ado_test"


@pytest.mark.parametrize(
    ("status", "body", "expected"),
    [
        (401, '{"message": "Bad credentials"}', "refused the token \\(401\\).*actions: read"),
        (403, '{"message": "Resource not accessible by integration"}', "refused the token \\(403\\).*actions: read"),
        (404, '{"message": "Not Found"}', "no .*approvals \\(404\\)"),
        (502, "<html>bad gateway</html>", "failed \\(502\\).*try again later"),
        (200, "<html>not json</html>", "malformed answer: GitHub sent no JSON"),
        (200, '{"message": "an object"}', "malformed answer: the review history is not a JSON list"),
        (200, (FIXTURES / "github_rejected_after.json").read_text(), "risk-officer rejected environment prod"),
        (200, "[]", "nobody approved environment prod in run 42"),
    ],
)
def test_github_failures_are_one_line_on_stderr(
    github: Server, capsys: pytest.CaptureFixture[str], status: int, body: str, expected: str
) -> None:
    github.answer(RUN, status, body)

    assert main(["ci", "approver", "--from", "github", "--env", "prod"]) == 1

    captured = capsys.readouterr()
    assert captured.out == ""
    assert len(captured.err.strip().splitlines()) == 1
    assert "Traceback" not in captured.err
    assert re.search(expected, " ".join(captured.err.split()))


def test_azure_devops_token_refusal_names_the_oauth_setting(
    azure_devops: Server, capsys: pytest.CaptureFixture[str]
) -> None:
    azure_devops.answer(TIMELINE, 203, "<html>Sign in</html>")

    assert main(["ci", "approver", "--from", "azure-devops"]) == 1

    err = " ".join(capsys.readouterr().err.split())
    assert "refused the token (203)" in err
    assert "SYSTEM_ACCESSTOKEN" in err
    assert "OAuth token" in err


def test_a_missing_variable_is_named(
    github: Server, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("GITHUB_TOKEN")

    assert main(["ci", "approver", "--from", "github", "--env", "prod"]) == 1

    assert "GITHUB_TOKEN not set" in capsys.readouterr().err
    assert github.seen == []


def test_an_unreachable_server_is_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], server: Server
) -> None:
    from creditops import processes

    monkeypatch.setenv("GITHUB_API_URL", f"http://127.0.0.1:{processes.free_port()}")
    monkeypatch.setenv("GITHUB_REPOSITORY", "acme/credit")
    monkeypatch.setenv("GITHUB_RUN_ID", "42")
    monkeypatch.setenv("GITHUB_TOKEN", "t")

    assert main(["ci", "approver", "--from", "github", "--env", "prod"]) == 1

    err = capsys.readouterr().err
    assert "cannot reach GitHub" in err
    assert len(err.strip().splitlines()) == 1


def test_an_unknown_source_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ci", "approver", "--from", "gitlab"]) == 1
    assert "--from must be github or azure-devops" in capsys.readouterr().err
