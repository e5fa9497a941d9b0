"""The context built at the edge: which store and workspace, from the environment file and the process."""

import os
from pathlib import Path

import pytest
import yaml

from creditops.cli import main
from creditops.context import expand, file_refusal, from_process, redacted
from creditops.errors import ConfigError

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "config" / "environments").mkdir(parents=True)
    for name in ("dev", "staging", "prod"):
        settings = yaml.safe_load((REPO / "config" / "environments" / f"{name}.yaml").read_text())
        if name == "prod":
            settings["tracking_uri"] = "${PROD_MLFLOW_TRACKING_URI}"  # required here, unlike the shipped file
        (tmp_path / "config" / "environments" / f"{name}.yaml").write_text(yaml.safe_dump(settings))
    for name in ("modelling.json", "schema.yaml"):
        (tmp_path / "config" / name).write_text((REPO / "config" / name).read_text())
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CREDITOPS_HOME", str(tmp_path / ".creditops"))
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.delenv("PROD_MLFLOW_TRACKING_URI", raising=False)
    return tmp_path


def test_the_store_may_come_from_a_variable_ci_fills_from_a_secret(project: Path) -> None:
    store = "postgresql://ci:s3cret@db.internal:5432/mlflow"
    context = from_process("prod", {"PROD_MLFLOW_TRACKING_URI": store})
    assert context.store_uri == store
    assert context.workspace == (project / ".creditops" / "envs" / "prod").resolve()


def test_an_unset_variable_is_one_line_naming_it(project: Path) -> None:
    with pytest.raises(ConfigError, match=r"names \$\{PROD_MLFLOW_TRACKING_URI\}, which is not set"):
        from_process("prod", {})
    with pytest.raises(ConfigError, match="NOPE"):
        expand("http://${NOPE}/x", {"NOPE": ""}, "dev")
    assert expand("plain", {}, "dev") == "plain"
    assert expand("${A}-${B}", {"A": "1", "B": "2"}, "dev") == "1-2"


def test_an_overridden_tracking_variable_is_never_silent(project: Path) -> None:
    context = from_process("staging", {"MLFLOW_TRACKING_URI": "http://user:pw@elsewhere:5000"})
    assert context.store_uri.startswith("sqlite:///")
    (note,) = context.notes
    assert "MLFLOW_TRACKING_URI (http://user:***@elsewhere:5000) is set" in note
    assert "pw" not in note
    assert from_process("staging", {}).notes == ()


def test_dev_is_the_workspace_of_commands_without_env(project: Path) -> None:
    """One dev: `make run` (no --env) registers where `status` and every --env dev command read."""
    home = {"CREDITOPS_HOME": str(project / ".creditops")}
    local, dev = from_process(None, home), from_process("dev", home)
    assert local.workspace == dev.workspace == (project / ".creditops").resolve()
    assert local.store_uri == dev.store_uri == f"sqlite:///{project.resolve() / '.creditops' / 'mlflow.db'}"
    assert from_process("staging", home).workspace == (project / ".creditops" / "envs" / "staging").resolve()
    server = {**home, "MLFLOW_TRACKING_URI": "http://127.0.0.1:5000"}
    assert from_process(None, server).store_uri == from_process("dev", server).store_uri == "http://127.0.0.1:5000"
    assert from_process("dev", server).notes == ()
    apart = {**home, "CREDITOPS_WORKSPACE": str(project / "scratch")}
    assert from_process(None, apart).workspace == (project / "scratch").resolve()
    assert from_process("dev", apart).workspace == dev.workspace


def test_dev_says_when_its_store_from_before_is_left_unread(project: Path) -> None:
    old = project / ".creditops" / "envs" / "dev" / "mlflow.db"
    old.parent.mkdir(parents=True)
    old.write_bytes(b"")
    (note,) = from_process("dev", {"CREDITOPS_HOME": str(project / ".creditops")}).notes
    assert f"{old.resolve()} is dev's store from an older creditops, no longer read" in note
    assert f"remove {old.parent.resolve()}" in note
    assert from_process("staging", {"CREDITOPS_HOME": str(project / ".creditops")}).notes == ()


@pytest.mark.parametrize(
    ("uri", "shown"),
    [
        ("postgresql://ci:s3cret@db:5432/mlflow", "postgresql://ci:***@db:5432/mlflow"),
        ("https://:token@mlflow.example", "https://:***@mlflow.example"),
        ("sqlite:////tmp/mlflow.db", "sqlite:////tmp/mlflow.db"),
        ("http://127.0.0.1:5000", "http://127.0.0.1:5000"),
    ],
)
def test_passwords_are_redacted(uri: str, shown: str) -> None:
    assert redacted(uri) == shown


def test_env_show_says_which_store_without_the_password(
    project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PROD_MLFLOW_TRACKING_URI", "postgresql://ci:s3cret@db:5432/mlflow")
    assert main(["env", "show", "prod"]) == 0
    out = capsys.readouterr().out
    assert "postgresql://ci:***@db:5432/mlflow" in out
    assert "s3cret" not in out
    assert "named by the environment file" in out


def test_a_default_after_colon_dash_makes_the_variable_optional(project: Path) -> None:
    assert expand("${X:-}", {}, "prod") == ""
    assert expand("${X:-http://127.0.0.1:5000}", {}, "prod") == "http://127.0.0.1:5000"
    assert expand("${X:-fallback}", {"X": "set"}, "prod") == "set"
    shipped = yaml.safe_load((REPO / "config" / "environments" / "prod.yaml").read_text())["tracking_uri"]
    assert shipped == "${PROD_MLFLOW_TRACKING_URI:-}"
    (project / "config" / "environments" / "prod.yaml").write_text(
        (REPO / "config" / "environments" / "prod.yaml").read_text()
    )
    local = from_process("prod", {})  # the shipped file on a laptop: the embedded store
    assert local.store_uri.startswith("sqlite:///")


def test_the_edges_make_openmp_sleep_only_before_it_loads_and_never_over_a_choice(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import sys

    from creditops.context import set_process_defaults
    from creditops.modelling.estimators import training_threads

    monkeypatch.delenv("OMP_WAIT_POLICY", raising=False)
    monkeypatch.delitem(sys.modules, "lightgbm", raising=False)
    monkeypatch.delitem(sys.modules, "sklearn", raising=False)
    monkeypatch.delitem(sys.modules, "xgboost", raising=False)
    set_process_defaults()
    assert os.environ["OMP_WAIT_POLICY"] == "PASSIVE"
    assert training_threads(300_000) == 2
    assert training_threads(30_000) == 1  # small data: one thread is faster, quiet or busy
    monkeypatch.setenv("OMP_WAIT_POLICY", "ACTIVE")  # the caller's choice stands
    set_process_defaults()
    assert os.environ["OMP_WAIT_POLICY"] == "ACTIVE"
    assert training_threads(300_000) == 1
    monkeypatch.delenv("OMP_WAIT_POLICY")
    monkeypatch.setitem(sys.modules, "sklearn", sys)  # the OpenMP runtime may have loaded: too late to set
    set_process_defaults()
    assert "OMP_WAIT_POLICY" not in os.environ
    assert training_threads(300_000) == 1


@pytest.mark.parametrize(
    "argv",
    [
        ["endpoint", "create", "abc"],
        ["data", "synth", "--rows", "10", "--output", "{workspace}/data/x.csv"],
        ["run", "--data", "{data}"],
    ],
)
def test_a_workspace_that_cannot_be_written_is_one_line_naming_the_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("where the workspace's parent folder should be")
    workspace = blocker / "ws"
    data = tmp_path / "d.csv"
    monkeypatch.setenv("CREDITOPS_WORKSPACE", str(workspace))
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    assert main(["data", "synth", "--rows", "300", "--output", str(data)]) == 0
    capsys.readouterr()
    assert main([part.format(workspace=workspace, data=data) for part in argv]) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert err.count("\n") == 1
    assert f"error: Not a directory: {workspace}/" in err
    assert f"(in the workspace {workspace}): make {workspace} a folder this user can write to, or set" in err
    assert "CREDITOPS_WORKSPACE to one" in err


def test_a_read_only_path_is_named_with_the_variable_that_chooses_the_workspace(tmp_path: Path) -> None:
    home = tmp_path / "home"
    denied = PermissionError(13, "Permission denied", str(home / "envs" / "dev" / "endpoints"))
    refused = file_refusal(denied, {"CREDITOPS_HOME": str(home)})
    assert refused is not None
    assert str(refused) == (
        f"Permission denied: {home}/envs/dev/endpoints (in the workspace {home}): make {home} a folder this"
        " user can write to, or set CREDITOPS_HOME to one"
    )
    elsewhere = file_refusal(OSError(30, "Read-only file system", "/mnt/out.csv"), {"CREDITOPS_HOME": str(home)})
    assert str(elsewhere) == "Read-only file system: /mnt/out.csv: check the path and its permissions"
    assert file_refusal(ConnectionRefusedError(111, "Connection refused")) is None
