"""`creditops models diff A B`: two versions side by side, as a table with ≠ marks or as JSON."""

import json
from pathlib import Path

import pytest

from creditops.cli import main
from creditops.context import Context


@pytest.mark.e2e
def test_the_table_marks_the_lines_that_differ(in_two_versions: Context, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["models", "diff", "1", "credit_default_model@champion"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert "credit_default_model v1 ↔ credit_default_model v2:" in lines[0]
    trees = next(line for line in lines if "train.n_estimators" in line)
    assert [cell.strip() for cell in trees.split("│")[1:-1]] == ["", "train.n_estimators", "5", "30", "≠"]
    assert "≠" in next(line for line in lines if "column BILL_AMT6" in line)
    assert "≠" not in next(line for line in lines if "train.learning_rate" in line)


@pytest.mark.e2e
def test_json_gives_both_versions_and_the_differences(
    in_two_versions: Context, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["models", "diff", "credit_default_model/1", "2", "--output", "json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert set(payload) == {"a", "b", "differences"}
    assert (payload["a"]["version"], payload["b"]["version"]) == ("1", "2")
    assert {"section": "params", "key": "train.n_estimators", "a": "5", "b": "30"} in payload["differences"]
    assert payload["b"]["contract"]["columns"]["BILL_AMT6"]["role"] == "ignore"
    # the same version twice: nothing differs
    assert main(["models", "diff", "2", "credit_default_model@champion", "-o", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["differences"] == []


@pytest.mark.e2e
@pytest.mark.parametrize(
    ("a", "b", "said"),
    [
        ("1", "7", "model 'credit_default_model' has no version 7: its versions are 1, 2"),
        ("credit_defualt_model/1", "2", "no registered model named 'credit_defualt_model'"),
        ("credit_default_model@nope", "2", "model 'credit_default_model' has no version with alias 'nope'"),
    ],
)
def test_an_unknown_version_is_one_line_and_exit_1(
    in_two_versions: Context, capsys: pytest.CaptureFixture[str], a: str, b: str, said: str
) -> None:
    assert main(["models", "diff", a, b]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert len(captured.err.strip().splitlines()) == 1
    assert said in captured.err


def test_an_empty_store_refuses_in_one_line(workspace: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["models", "diff", "1", "2"]) == 1
    error = " ".join(capsys.readouterr().err.split())
    assert "no registered model named 'credit_default_model'" in error
    assert error.endswith("it has no registered models yet")
    assert not (workspace / "mlflow.db").exists()


def test_help_reads_well(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "200")  # typer's help reads it
    assert main(["models", "diff", "--help"]) == 0
    shown = " ".join(capsys.readouterr().out.split())
    assert "Compare two versions" in shown
    assert "NAME/VERSION, NAME@ALIAS or VERSION (of the project's model)" in shown
    assert "--env" in shown
    assert "--output" in shown


@pytest.mark.e2e
def test_show_takes_a_bare_version_of_the_project_model_too(
    in_two_versions: Context, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["models", "show", "2", "-o", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["version"] == "2"
