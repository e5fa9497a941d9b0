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
