from pathlib import Path

import pytest

from creditops.context import from_process
from creditops.tracking.store import sqlite_path, store_exists


def tracking_uri() -> str:
    return from_process().store_uri


def test_default_store_is_sqlite_in_the_workspace(workspace: Path) -> None:
    assert tracking_uri() == f"sqlite:///{workspace / 'mlflow.db'}"
    assert sqlite_path(tracking_uri()) == workspace / "mlflow.db"


def test_configured_uri_wins(workspace: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://127.0.0.1:5000")
    assert tracking_uri() == "http://127.0.0.1:5000"
    assert sqlite_path(tracking_uri()) is None
    assert store_exists(tracking_uri())


def test_an_uncreated_sqlite_store_does_not_exist(tmp_path: Path) -> None:
    assert not store_exists(f"sqlite:///{tmp_path / 'none.db'}")


def test_a_new_store_is_a_copy_of_one_migrated_store_with_its_own_default_experiment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sqlite3

    import mlflow
    import platformdirs

    from creditops.tracking import store

    cache = tmp_path / "cache"
    monkeypatch.setattr(platformdirs, "user_cache_path", lambda name: cache / name)
    for name in ("one", "two"):
        folder = tmp_path / name
        folder.mkdir()
        monkeypatch.chdir(folder)
        uri = f"sqlite:///{folder / 'store' / 'mlflow.db'}"
        store.connect(uri)
        client = mlflow.MlflowClient(uri, uri)
        default = client.get_experiment("0")
        assert default.artifact_location == str(folder / "mlruns" / "0")  # as MLflow creates a store here
        assert client.create_registered_model(f"model-{name}").name == f"model-{name}"
    (template,) = (cache / "creditops").iterdir()
    assert template.name == f"mlflow-{mlflow.__version__}-empty.db"
    with sqlite3.connect(template) as db:  # the template stays empty: stores are copies, not the template
        assert db.execute("SELECT count(*) FROM registered_models").fetchone() == (0,)


def test_without_a_writable_cache_mlflow_creates_the_store_itself(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import mlflow
    import platformdirs

    from creditops.tracking import store

    blocked = tmp_path / "not-a-folder"
    blocked.write_text("")
    monkeypatch.setattr(platformdirs, "user_cache_path", lambda name: blocked / name)
    uri = f"sqlite:///{tmp_path / 'store' / 'mlflow.db'}"
    store.connect(uri)
    assert mlflow.MlflowClient(uri, uri).search_registered_models() == []


def test_connecting_leaves_the_process_environment_as_it_was(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """MLflow writes the store into MLFLOW_TRACKING_URI; a context built afterwards must not take it up."""
    import os

    from creditops.tracking import store

    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    store.connect(f"sqlite:///{tmp_path / 'one' / 'mlflow.db'}")
    assert "MLFLOW_TRACKING_URI" not in os.environ
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://127.0.0.1:5000")
    store.connect(f"sqlite:///{tmp_path / 'two' / 'mlflow.db'}")
    assert os.environ["MLFLOW_TRACKING_URI"] == "http://127.0.0.1:5000"


def test_open_if_exists_leaves_a_new_store_uncreated_and_opens_an_existing_one(tmp_path: Path) -> None:
    from creditops.tracking.store import connect, open_if_exists

    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    open_if_exists(uri)
    assert not (tmp_path / "mlflow.db").exists()
    connect(uri)
    open_if_exists(uri)
    assert (tmp_path / "mlflow.db").is_file()
