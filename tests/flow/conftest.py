"""A throwaway project: the repository's configs with small environments on free ports."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from creditops.context import from_process
from creditops.endpoints import state
from creditops.endpoints.targets.local import LocalTarget

from ..small_environments import small_project


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A project folder with small environments on free ports; every endpoint deleted afterwards."""
    yield small_project(tmp_path, monkeypatch)
    for env in ("dev", "staging", "prod"):
        context = from_process(env)
        for name in state.names(context.endpoints_dir):
            LocalTarget(context, name).delete()
