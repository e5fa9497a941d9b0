"""What creditops ships for folders without config/: the same files as the repository's, and every command
works from them."""

from pathlib import Path

import pytest

from creditops.cli import main
from creditops.config.environments import BUILT_IN_DIR, ENVIRONMENTS, load_environment
from creditops.data.contract import BUILT_IN, load_contract, uci

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("name", ENVIRONMENTS)
def test_the_shipped_environment_files_are_the_repositorys(name: str) -> None:
    assert (BUILT_IN_DIR / f"{name}.yaml").read_text() == (
        REPO / "config" / "environments" / f"{name}.yaml"
    ).read_text()


def test_the_shipped_contract_is_the_repositorys_config_schema() -> None:
    assert BUILT_IN.read_text() == (REPO / "config" / "schema.yaml").read_text()
    assert load_contract(REPO / "config" / "schema.yaml") == uci()


def test_a_folder_without_config_uses_the_built_in_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CREDITOPS_HOME", str(tmp_path / ".creditops"))
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    assert load_environment("dev").built_in
    assert main(["status", "--env", "dev"]) == 0
    assert "no store yet" in " ".join(capsys.readouterr().out.split())


def test_a_folder_with_its_own_environments_never_falls_back(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from creditops.errors import ConfigError

    monkeypatch.chdir(tmp_path)
    (tmp_path / "config" / "environments").mkdir(parents=True)
    with pytest.raises(ConfigError, match=r"environment file not found: config/environments/dev\.yaml"):
        load_environment("dev")


def test_status_of_every_environment_after_dev_has_a_store_has_no_notes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Reading dev's store must not make staging and prod say MLFLOW_TRACKING_URI is set (MLflow sets it)."""
    from creditops.context import from_process
    from creditops.tracking.store import connect

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CREDITOPS_HOME", str(tmp_path / ".creditops"))
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    connect(from_process("dev").store_uri)
    assert main(["status"]) == 0
    captured = capsys.readouterr()
    assert "note:" not in captured.err
    assert "no store yet" in " ".join(captured.out.split())  # staging and prod
