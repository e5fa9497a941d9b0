"""MLflow's progress lines are held back in `run` and `ci release` alike; what is not chatter still shows."""

import sys

import pytest

from creditops.cli import main
from creditops.cli.app import mlflow_messages

CHATTER = "2026/12/05 04:00:00 INFO mlflow.store.db.utils: Creating initial MLflow database tables..."
WARNING = "UserWarning: something a person should read"


def _mlflow_writes() -> None:
    for line in (CHATTER, "Successfully registered model 'credit_default_model'.", WARNING):
        print(line, file=sys.stderr)


@pytest.mark.parametrize(("shown", "expected"), [(False, [WARNING]), (True, [CHATTER, WARNING])])
def test_chatter_is_held_back_unless_verbose(
    shown: bool, expected: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with mlflow_messages(shown=shown):
        _mlflow_writes()
    lines = capsys.readouterr().err.splitlines()
    assert [line for line in lines if line in (CHATTER, WARNING)] == expected


def test_ci_release_holds_back_mlflow_chatter(
    workspace: object, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def release(*args: object, **kwargs: object) -> None:
        _mlflow_writes()

    monkeypatch.setattr("creditops.flow.release.release", release)
    assert main(["ci", "release", "--env", "dev"]) == 0
    err = capsys.readouterr().err
    assert CHATTER not in err
    assert WARNING in err
    assert main(["ci", "release", "--env", "dev", "--verbose"]) == 0
    assert CHATTER in capsys.readouterr().err
