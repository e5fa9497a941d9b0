"""`creditops endpoint …` on another environment's endpoint suggests its --env, not a `create`."""

from pathlib import Path

import pytest

from creditops.cli import main

from ..small_environments import small_project


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return small_project(tmp_path, monkeypatch)


@pytest.mark.parametrize(
    ("argv", "where", "owner"),
    [
        (["endpoint", "show", "creditops-prod"], "the local workspace", "prod"),
        (["endpoint", "--env", "dev", "show", "creditops-prod"], "the dev environment", "prod"),
        (["endpoint", "logs", "creditops-staging", "--env", "prod"], "the prod environment", "staging"),
        (["endpoint", "delete", "creditops-dev"], "the local workspace", "dev"),
    ],
)
def test_another_environments_endpoint_names_its_env(
    project: Path, argv: list[str], where: str, owner: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 1
    error = " ".join(capsys.readouterr().err.split())
    assert f"in {where}: it is the {owner} environment's endpoint" in error
    assert error.endswith(f"add --env {owner}")
    assert "create" not in error


def test_an_unknown_name_or_the_environments_own_endpoint_is_offered_create(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["endpoint", "show", "nosuch"]) == 1
    assert "no endpoint named 'nosuch': create it with 'creditops endpoint create nosuch'" in capsys.readouterr().err
    assert main(["endpoint", "show", "creditops-prod", "--env", "prod"]) == 1
    error = " ".join(capsys.readouterr().err.split())
    assert "create it with 'creditops endpoint --env prod create creditops-prod'" in error
