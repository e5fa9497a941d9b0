"""Bring your own portfolio, end to end on a second real data set: the German credit data (1,000 applicants,
text categories, label good/bad) from `creditops init` to a served request, a scored file, drift and a card
with fairness figures, with no edit of the scaffolded project."""

import json
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pandas as pd
import pytest
import yaml

from creditops import processes
from creditops.cli import main

pytestmark = pytest.mark.e2e
GERMAN = Path(__file__).parent / "fixtures" / "germancredit.csv"
PROTECTED = ("personal_status_and_sex", "age_in_years", "foreign_worker")


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CREDITOPS_HOME", str(tmp_path / "german" / ".creditops"))
    monkeypatch.delenv("CREDITOPS_WORKSPACE", raising=False)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    code = main(
        [
            "init",
            "german",
            *("--data", str(GERMAN), "--label", "creditability", "--positive", "bad"),
            *("--protected", ",".join(PROTECTED), "--name", "german_credit"),
        ]
    )
    assert code == 0
    folder = tmp_path / "german"
    dev = folder / "config" / "environments" / "dev.yaml"
    dev.write_text(re.sub(r"(?m)^  port: 5101$", f"  port: {processes.free_port()}", dev.read_text()))
    monkeypatch.chdir(folder)
    yield folder
    main(["endpoint", "--env", "dev", "delete", "german-credit-dev"])


def _row(**changes: object) -> dict[str, object]:
    frame = pd.read_csv(GERMAN).drop(columns=["creditability"])
    return {
        **{key: (value.item() if hasattr(value, "item") else value) for key, value in frame.iloc[1].items()},
        **changes,
    }


@pytest.fixture
def served(project: Path) -> Iterator[str]:
    assert main(["run", "--data", "data/germancredit.csv", "-q"]) == 0
    port = processes.free_port()
    server = subprocess.Popen(  # nosec B603: a fixed argument list
        [sys.executable, "-m", "creditops", "serve", "--model", "models:/german_credit@champion", "--port", str(port)],
        cwd=project,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while server.poll() is None and time.monotonic() < deadline:
            try:
                if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        else:
            server.kill()
            pytest.fail(f"the server did not start: {server.communicate()[0].decode()[-2000:]}")
        yield url
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_a_new_portfolio_runs_from_init_to_a_served_request(project: Path, served: str, capsys) -> None:
    # Given the project init made (run by the fixture), the inferred contract is what the data say
    contract = yaml.safe_load((project / "config" / "schema.yaml").read_text())
    assert contract["label"] == {"column": "creditability", "positive": "bad"}
    assert {name for name, column in contract["columns"].items() if column.get("role") == "protected"} == set(PROTECTED)
    assert contract["columns"]["purpose"]["type"] == "category"

    # When a client sends records with text categories, it is scored; an unknown category is a 422
    answer = httpx.post(f"{served}/invocations", json={"dataframe_records": [_row()]}, timeout=30)
    assert answer.status_code == 200, answer.text
    probability = answer.json()["predictions"][0]["probability"]
    assert 0 <= probability <= 1
    unknown = httpx.post(f"{served}/invocations", json={"dataframe_records": [_row(purpose="yacht")]}, timeout=30)
    assert unknown.status_code == 422
    assert unknown.json()["error_code"] == "INVALID_PARAMETER_VALUE"
    assert unknown.json()["message"].startswith("column 'purpose' row 0: 'yacht' is not an allowed category")
    # and the protected columns never score: the same answer without them
    without = {key: value for key, value in _row().items() if key not in PROTECTED}
    same = httpx.post(f"{served}/invocations", json={"dataframe_records": [without]}, timeout=30)
    assert same.json()["predictions"][0]["probability"] == probability
    explained = httpx.post(f"{served}/score?explain=2", json={"dataframe_records": [_row()]}, timeout=30).json()
    assert all(reason["code"].startswith("R") for reason in explained["predictions"][0]["reasons"])
    assert not any(name in reason["text"] for reason in explained["predictions"][0]["reasons"] for name in PROTECTED)


def test_a_new_portfolio_scores_releases_monitors_and_reports_fairness(project: Path, capsys) -> None:
    assert main(["run", "--data", "data/germancredit.csv", "-q"]) == 0
    card = (project / ".creditops" / "reports" / "german_credit-v1.html").read_text()
    assert "Fairness" in card
    for name in PROTECTED:
        assert name in card

    assert (
        main(
            [
                "score",
                "--model",
                "models:/german_credit@champion",
                "--data",
                "data/germancredit.csv",
                "--output",
                "scored.csv",
            ]
        )
        == 0
    )
    scored = pd.read_csv(project / "scored.csv")
    assert len(scored) == 1_000
    assert scored["probability"].between(0, 1).all()

    capsys.readouterr()
    assert main(["ci", "release", "--env", "dev"]) == 0
    assert main(["endpoint", "invoke", "german-credit-dev", "--env", "dev", "--data", "data/germancredit.csv"]) == 0
    assert main(["monitor", "drift", "--env", "dev", "--since", "1h"]) == 0
    assert "no drift" in " ".join(capsys.readouterr().out.split())
    assert main(["status", "--env", "dev"]) == 0
    summary = json.loads(next((project / ".creditops" / "monitoring").glob("drift-*.json")).read_text())
    assert summary["rows"] == 1_000


def test_a_portfolio_never_gets_invented_rows(project: Path, capsys) -> None:
    shutil.rmtree(project / "data")
    assert main(["ci", "release", "--env", "dev"]) == 1
    message = " ".join(capsys.readouterr().err.split())
    assert "the dev data file data/germancredit.csv is not there: put the german_credit portfolio there" in message
