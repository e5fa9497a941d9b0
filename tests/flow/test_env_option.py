"""--env is accepted after the command as well as before it on the group, and both choose the same store."""

from pathlib import Path

import pytest

from creditops.cli import main


@pytest.mark.parametrize(
    "argv",
    [
        ["models", "--env", "staging", "list"],
        ["models", "list", "--env", "staging"],
    ],
)
def test_both_spellings_choose_the_environment_store(project: Path, argv: list[str], capsys) -> None:
    assert main(argv) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "no registered models in sqlite:///" in out
    assert "envs/staging/mlflow.db" in out


def test_the_command_level_env_wins_and_is_checked(project: Path, capsys) -> None:
    assert main(["endpoint", "--env", "dev", "show", "nosuch", "--env", "qa"]) == 2
    assert "unknown environment 'qa'" in capsys.readouterr().err
    assert main(["endpoint", "invoke", "nosuch", "--env", "staging"]) == 1
    assert "no endpoint named 'nosuch': create it with 'creditops endpoint --env staging create nosuch'" in " ".join(
        capsys.readouterr().err.split()
    )
    assert main(["endpoint", "invoke", "nosuch", "--env", "dev"]) == 1  # dev is the workspace without --env
    assert "create it with 'creditops endpoint create nosuch'" in " ".join(capsys.readouterr().err.split())


@pytest.mark.parametrize("env", ["dev", "staging"])
def test_approving_where_no_approval_is_needed_says_so(project: Path, env: str, capsys) -> None:
    assert main(["approve", "--env", env, "--version", "1", "--by", "ana", "--reason", "looks good"]) == 1
    error = capsys.readouterr().err
    assert f"{env} needs no approval" in error
    assert f"'creditops ci release --env {env}' promotes without one" in error
    assert main(["approve", "--env", "prod", "--version", "99", "--by", "ana", "--reason", "looks good"]) == 1
    assert "no registered model named 'credit_default_model'" in capsys.readouterr().err


def test_pr_validation_smoke_target_is_checked_before_anything_runs(
    project: Path, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert main(["ci", "pr-validation", "--smoke-on", "cloud"]) == 1
    assert "--smoke-on must be local or azureml, not 'cloud'" in capsys.readouterr().err
    for name in ("AZURE_SUBSCRIPTION_ID", "AZURE_RESOURCE_GROUP", "AZUREML_WORKSPACE_NAME"):
        monkeypatch.delenv(name, raising=False)
    assert main(["ci", "pr-validation", "--smoke-on", "azureml"]) == 1
    error = " ".join(capsys.readouterr().err.split())
    assert "--smoke-on azureml needs an Azure ML workspace: set AZURE_SUBSCRIPTION_ID" in error
    assert "az login" in error
    assert not (project / "reports").exists()  # refused before any stage ran
