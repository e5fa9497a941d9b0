"""The runners of a workflow replay: a folder of clones whose endpoints are deleted afterwards."""

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from creditops.context import from_process
from creditops.endpoints import state
from creditops.endpoints.targets.local import LocalTarget


@pytest.fixture
def runners(tmp_path: Path) -> Iterator[Path]:
    yield tmp_path
    home = os.environ.get("CREDITOPS_HOME")
    for runner in tmp_path.iterdir():
        if (runner / ".creditops").is_dir():
            os.environ["CREDITOPS_HOME"] = str(runner / ".creditops")
            for env in ("dev", "staging", "prod"):
                context = from_process(env)
                for name in state.names(context.endpoints_dir):
                    LocalTarget(context, name).delete()
    if home is None:
        os.environ.pop("CREDITOPS_HOME", None)
    else:
        os.environ["CREDITOPS_HOME"] = home
