"""`creditops gate pending`: the bare version for scripts, a sentence for people, JSON on request."""

import importlib
import json
from pathlib import Path

import mlflow
import pytest

from creditops.cli import main
from creditops.context import from_process
from creditops.tracking import names

from ..small_environments import small_project


@pytest.fixture
def awaiting(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project whose prod store holds version 1 of the model, gated and awaiting approval in prod."""
    project = small_project(tmp_path, monkeypatch)
    context = from_process("prod")
    client = mlflow.MlflowClient(context.store_uri, context.store_uri)
    client.create_registered_model(context.model_name)
    tags = {
        names.GATE_DECISION: names.AWAITING_APPROVAL,
        names.GATE_ENVIRONMENT: "prod",
        names.REGISTERED_BY: "ana",
        names.GATE_DECIDED_AT: "2026-12-05T04:00:00Z",
    }
    client.create_model_version(context.model_name, str(tmp_path), tags=tags)
    return project


def test_scripts_read_the_bare_version(awaiting: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # stdout is not a terminal under pytest, as in `version=$(creditops gate pending --env prod)`
    assert main(["gate", "pending", "--env", "prod"]) == 0
    assert capsys.readouterr().out == "1\n"


def test_json_carries_who_registered_it_and_since_when(awaiting: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["gate", "pending", "--env", "prod", "--output", "json"]) == 0
    assert json.loads(capsys.readouterr().out) == {
        "version": "1",
        "environment": "prod",
        "registered_by": "ana",
        "awaiting_since": "2026-12-05T04:00:00Z",
    }


def test_a_person_reads_the_command_that_approves(
    awaiting: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    shared = importlib.import_module("creditops.cli.app")  # the attribute `app` of creditops.cli is the Typer app
    monkeypatch.setattr(shared, "stdout_is_terminal", lambda: True)
    assert main(["gate", "pending", "--env", "prod"]) == 0
    said = " ".join(capsys.readouterr().out.split())
    assert said == (
        "version 1 awaits approval in prod (registered by ana, waiting since 2026-12-05T04:00:00Z):"
        ' creditops approve --env prod --version 1 --reason "…"'
    )


def test_nothing_pending_is_exit_1_in_every_output(awaiting: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for output in ("table", "json"):
        assert main(["gate", "pending", "--env", "staging", "--output", output]) == 1
        captured = capsys.readouterr()
        assert captured.out == ""
        assert "no version awaits approval in staging" in captured.err
