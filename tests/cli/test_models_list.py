"""`creditops models list NAME`: a name that is not registered is an error naming the registered ones."""

from pathlib import Path

import mlflow
import pytest

from creditops.cli import main
from creditops.context import from_process


def test_a_misspelt_name_is_refused_in_one_line_with_the_registered_names(
    workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a store where credit_default_model is registered
    uri = from_process().store_uri
    mlflow.MlflowClient(uri, uri).create_registered_model("credit_default_model")
    capsys.readouterr()
    for output in ("table", "json"):
        # When a misspelt name is listed
        assert main(["models", "list", "credit_defualt_model", "--output", output]) == 1
        captured = capsys.readouterr()
        # Then one line says it is not registered and names what is, and nothing goes to stdout
        assert captured.out == ""
        error = captured.err.strip()
        assert len(error.splitlines()) == 1
        assert "no registered model named 'credit_defualt_model'" in error
        assert error.endswith("the registered models are credit_default_model")
    # A registered name lists as before
    assert main(["models", "list", "credit_default_model"]) == 0


def test_a_name_on_an_empty_store_says_the_store_has_none(workspace: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["models", "list", "nosuch"]) == 1
    error = " ".join(capsys.readouterr().err.split())
    assert "no registered model named 'nosuch'" in error
    assert error.endswith("it has no registered models yet")
    assert not (workspace / "mlflow.db").exists()  # asking made no store
