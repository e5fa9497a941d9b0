"""`creditops runs list`: the store's runs, newest first, as a table or as JSON."""

import json
from pathlib import Path

import pytest

from creditops.cli import main
from creditops.context import Context

from ..small_environments import small_project


@pytest.mark.e2e
def test_the_table_lists_the_runs_newest_first(in_two_versions: Context, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["runs", "list"]) == 0
    out = capsys.readouterr().out
    assert "runs, newest first (2)" in out
    second, first = out.index("registered credit_default_model version 2"), out.index("version 1")
    assert second < first
    assert out.count("FINISHED") == 2
    assert "recorded" in out
    assert "duration" not in out  # a training run's MLflow run is not the whole command


@pytest.mark.e2e
def test_json_has_stable_keys_and_the_limit_holds(in_two_versions: Context, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["runs", "list", "--output", "json", "--limit", "1"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert set(payload) == {"store", "runs"}
    assert payload["store"] == in_two_versions.store_uri
    [run] = payload["runs"]
    assert run["registered"] == ["credit_default_model/2"]
    assert run["status"] == "FINISHED"
    assert set(run) == {
        "run_id", "name", "status", "started_at", "recorded_seconds", "kind", "did", "git_commit", "roc_auc",
        "registered",
    }  # fmt: skip


@pytest.mark.parametrize("limit", ["0", "-1"])
def test_a_limit_below_one_is_one_line_and_exit_1(
    workspace: Path, capsys: pytest.CaptureFixture[str], limit: str
) -> None:
    assert main(["runs", "list", "--limit", limit]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.strip().splitlines() == [f"error: --limit must be 1 or more, not {limit}"]


def test_a_limit_over_what_a_store_returns_is_one_line_and_exit_1(
    workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["runs", "list", "--limit", "50001"]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.strip().splitlines() == ["error: --limit must be at most 50000, not 50001"]


def test_an_empty_store_says_so_in_one_line_and_stays_uncreated(
    workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["runs", "list"]) == 0
    said = " ".join(capsys.readouterr().out.split())
    assert said == f"no runs yet in sqlite:///{workspace.resolve()}/mlflow.db; run 'creditops run'"
    assert main(["runs", "list", "-o", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["runs"] == []
    assert not (workspace / "mlflow.db").exists()


@pytest.mark.parametrize("argv", [["runs", "--env", "staging", "list"], ["runs", "list", "--env", "staging"]])
def test_env_before_or_after_the_command_chooses_that_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    small_project(tmp_path, monkeypatch)
    assert main(argv) == 0
    said = " ".join(capsys.readouterr().out.split())
    assert said.startswith("no runs yet in sqlite:///")
    assert "envs/staging/mlflow.db" in said


@pytest.mark.parametrize(
    ("env", "first"),
    [
        ("dev", "creditops run"),
        ("staging", "creditops ci release --env staging"),
        ("prod", "creditops ci release --env prod"),
    ],
)
def test_an_empty_environment_store_names_the_command_that_makes_its_first_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], env: str, first: str
) -> None:
    small_project(tmp_path, monkeypatch)
    assert main(["runs", "list", "--env", env]) == 0
    said = " ".join(capsys.readouterr().out.split())
    assert said.startswith("no runs yet in sqlite:///")
    assert said.endswith(f"; run '{first}'")


def test_help_reads_well(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "200")  # typer's help reads it
    assert main(["runs", "list", "--help"]) == 0
    shown = " ".join(capsys.readouterr().out.split())
    assert "List recent runs, newest first" in shown
    assert "--limit" in shown
    assert "[default: 20]" in shown
    assert "--env" in shown
